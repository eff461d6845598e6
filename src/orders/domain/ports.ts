/**
 * What the use cases need from the outside world. Adapters in infra/
 * implement these over the database and the other services' clients.
 */
import type { CallContext } from "../../kernel/call-context.js";
import type { Money } from "./money.js";
import type { OrderStatus } from "./order-status.js";
import type { Order, ReservationState } from "./order.js";
import type { Decision } from "./transition.js";
import type { DomainError } from "../../kernel/errors.js";

export type InventoryReservationStatus = "PENDING" | "COMMITTED" | "RELEASED" | "EXPIRED";

export interface InventoryReservation {
  readonly id: string;
  readonly status: InventoryReservationStatus;
  /** One per product, with the unit price captured at reservation. */
  readonly lines: readonly { readonly productId: string; readonly quantity: number; readonly unitPrice: Money }[];
}

export interface InventoryPort {
  reserve(
    cx: CallContext,
    reservationId: string,
    lines: readonly { productId: string; quantity: number }[],
  ): Promise<InventoryReservation>;
  commit(cx: CallContext, reservationId: string): Promise<void>;
  release(cx: CallContext, reservationId: string, reason: string): Promise<void>;
}

export interface CustomerPort {
  /** NOT_FOUND CUSTOMER_NOT_FOUND for an unknown id. */
  get(cx: CallContext, customerId: string): Promise<{ readonly id: string; readonly active: boolean }>;
}

export interface IdempotencyRecord {
  readonly orderId: string;
  readonly payloadHash: string;
}

export type CreateResult =
  | { readonly kind: "created"; readonly order: Order }
  | { readonly kind: "duplicate"; readonly record: IdempotencyRecord };

export interface ListQuery {
  readonly customerId: string | undefined;
  readonly statuses: readonly OrderStatus[];
  readonly createTimeStart: Date | undefined;
  readonly createTimeEnd: Date | undefined;
  readonly descending: boolean;
}

/** Keyset position: the last row's create time (epoch ms) and id. */
export interface ListCursor {
  readonly createTimeMs: number;
  readonly id: string;
}

export interface OrderRepository {
  findById(id: string, opts?: { includeDeleted?: boolean }): Promise<Order | undefined>;
  findIdempotencyRecord(customerId: string, requestId: string): Promise<IdempotencyRecord | undefined>;
  /** Writes order, lines, history, idempotency record and outbox in one transaction. */
  create(order: Order, payloadHash: string): Promise<CreateResult>;
  /**
   * Locks the (not deleted) order, checks the etag, runs `fn`, and writes the
   * result with its history and outbox rows in one transaction. NOT_FOUND
   * ORDER_NOT_FOUND, ABORTED ETAG_MISMATCH, or whatever `fn` returns as error.
   */
  update(id: string, etag: string | undefined, fn: (order: Order) => Decision | DomainError): Promise<Decision>;
  /** Guarded: moves the reservation state only from one of `from`. True when it moved. */
  setReservationState(id: string, from: readonly ReservationState[], to: ReservationState): Promise<boolean>;
  /** Orders (deleted ones included) whose reservation needs a commit or a release. */
  unsettled(limit: number): Promise<Order[]>;
  list(query: ListQuery, after: ListCursor | undefined, limit: number): Promise<Order[]>;
}

/** In-process change signal, fired after a commit; watchers also poll. */
export interface OrderChanges {
  notify(orderId: string): void;
  /** Resolves on the next change of the order, after `timeoutMs`, or when `signal` aborts. */
  next(orderId: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
}
