/**
 * What the use cases need from the outside world. Adapters in infra/
 * implement these over the database and the other services' clients.
 */
import type { CallContext } from "../../kernel/call-context.js";
import type { FulfilmentStatus } from "./fulfilment.js";
import type { Money } from "./money.js";
import type { OrderStatus } from "./order-status.js";
import type { Order, ReservationState } from "./order.js";
import type { PaymentStatus } from "./payment.js";
import type { TimelineEntry } from "./timeline.js";
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
  /** Puts units of a committed reservation back into stock, once per `returnId` (a repeat changes nothing). */
  returnStock(
    cx: CallContext,
    reservationId: string,
    returnId: string,
    lines: readonly { productId: string; quantity: number }[],
    reason: string,
  ): Promise<void>;
}

export interface CustomerPort {
  /** NOT_FOUND CUSTOMER_NOT_FOUND for an unknown id. `tier`: STANDARD, VIP... (the enum's names). */
  get(cx: CallContext, customerId: string): Promise<{ readonly id: string; readonly active: boolean; readonly tier: string }>;
  /** The id of the customer with this email (any letter case); undefined when nobody has it. */
  findIdByEmail(cx: CallContext, email: string): Promise<string | undefined>;
}

export interface IdempotencyRecord {
  readonly orderId: string;
  /**
   * The first request's fingerprint; undefined when its record was purged
   * (retention) and only the order itself, found by its deterministic id,
   * stands for it: the order's own fingerprint (orderFingerprint) then.
   */
  readonly payloadHash: string | undefined;
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

/** SearchOrders' order number filter: one number, or every number starting with these digits. Decimal digits, no leading zero. */
export type NumberFilter = { readonly exact: string } | { readonly prefix: string };

/** SearchOrders' filters (ListQuery's and more): every one that is set must hold. */
export interface SearchQuery extends ListQuery {
  readonly number: NumberFilter | undefined;
  readonly paymentStatuses: readonly PaymentStatus[];
  readonly fulfilmentStatuses: readonly FulfilmentStatus[];
  readonly tag: string | undefined;
}

/** A payment report as stored (orders.payment_reports), its currency the order's. */
export interface StoredPaymentReport {
  readonly eventId: string;
  readonly kind: string;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly reason: string;
  readonly actor: string;
}

/** What an update must find true of the order before it may change it. */
export interface UpdateGuard {
  /** When set, the order must still have this etag. */
  readonly etag?: string;
  /** When set, the order must be this customer's (the caller is that customer). */
  readonly customerScope?: string;
  /**
   * When set and true for the locked order, the command was already applied
   * (a repeat): nothing is written and the order is answered as it is, before
   * the etag is looked at (the first try changed it). May throw (a reused key).
   */
  readonly alreadyApplied?: (order: Order) => boolean;
}

/** Keyset position: the last row's create time (epoch ms) and id. */
export interface ListCursor {
  readonly createTimeMs: number;
  readonly id: string;
}

export interface OrderRepository {
  findById(id: string, opts?: { includeDeleted?: boolean }): Promise<Order | undefined>;
  /**
   * The record of (customerId, requestId); once retention purged it, the
   * order `orderId` (the request's deterministic id, deleted ones included)
   * if it was made by that request, with no payload hash.
   */
  findIdempotencyRecord(customerId: string, requestId: string, orderId: string): Promise<IdempotencyRecord | undefined>;
  /** Writes order, lines, history, idempotency record and outbox in one transaction. */
  create(order: Order, payloadHash: string): Promise<CreateResult>;
  /**
   * Locks the (not deleted) order, checks it is visible to the caller (an
   * order of another customer than `guard.customerScope` is NOT_FOUND, before
   * anything else is looked at) and the etag, runs `fn`, and writes the result
   * with its history and outbox rows in one transaction. NOT_FOUND
   * ORDER_NOT_FOUND, ABORTED ETAG_MISMATCH, or whatever `fn` returns as error.
   * With `cx` (the call's context), bounded by its deadline: DEADLINE_EXCEEDED
   * and nothing written when it passes (src/platform/bounded.ts).
   */
  update(id: string, guard: UpdateGuard, fn: (order: Order) => Decision | DomainError, cx?: CallContext): Promise<Decision>;
  /**
   * `update` for a payment report, idempotent by its provider event id: a
   * report already taken (same order, kind, amount and reason) changes
   * nothing and answers the order as it is now (before the etag is looked
   * at: the first try may have changed it); the same id with another report
   * is INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED. The report is stored with the
   * change, in its transaction.
   */
  reportPayment(
    id: string,
    report: StoredPaymentReport,
    guard: UpdateGuard,
    fn: (order: Order) => Decision | DomainError,
    cx?: CallContext,
  ): Promise<Decision>;
  /** Guarded: moves the reservation state only from one of `from`. True when it moved. */
  setReservationState(id: string, from: readonly ReservationState[], to: ReservationState): Promise<boolean>;
  /**
   * Writes `decision` (status, reservation state, history, outbox; one
   * statement) only if the order is still at `expectedVersion` and not
   * deleted. True when written; false when the order changed meanwhile.
   */
  applyIfUnchanged(decision: Decision, expectedVersion: number): Promise<boolean>;
  /** A PENDING order's stock is now held under `to` instead of `from`. True when it moved. */
  moveReservation(id: string, from: string, to: string): Promise<boolean>;
  /** Marks a restock of the order returned (no new version: inventory's side of a recorded change). */
  markRestocked(orderId: string, restockId: string): Promise<void>;
  /** Orders (deleted ones included) with a restock still to return at inventory. */
  restocksDue(limit: number): Promise<Order[]>;
  /** Orders (deleted ones included) whose reservation needs a commit or a release. */
  unsettled(limit: number): Promise<Order[]>;
  list(query: ListQuery, after: ListCursor | undefined, limit: number): Promise<Order[]>;
  /** A keyset page of SearchOrders, ordered as `list`'s. */
  search(query: SearchQuery, after: ListCursor | undefined, limit: number): Promise<Order[]>;
}

/** The watches of orders (infra/watch-hub.ts): one shared change feed, fanned out to every watcher. */
export interface OrderWatches {
  /**
   * Opens a watch of `orderId` for `owner` (a principal's label), whose first
   * `next()` is the order now. RESOURCE_EXHAUSTED WATCH_LIMIT_REACHED beyond
   * the caps; UNAVAILABLE SHUTTING_DOWN once the service is shutting down.
   */
  open(owner: string, orderId: string): OrderWatch;
}

export interface OrderWatch {
  /** The next version not yet handed out (the latest one, if several came); undefined: the order is gone. */
  next(): Promise<Order | undefined>;
  /** Ends the watch: the waiting and every later `next()` reject with `err`. */
  end(err: unknown): void;
  /** Frees the watch's slot; call once the watch is over, however it ended. */
  close(): void;
}

declare const recordedOrder: unique symbol;

/**
 * An order as an event recorded it: the contract's message, which only rpc/
 * reads (proto types stop there); the use cases pass it on untouched.
 */
export interface RecordedOrder {
  readonly [recordedOrder]: never;
}

/** One committed change of an order, as the order's event log (the outbox) keeps it. */
export interface RecordedChange {
  /** The order's version after the change. */
  readonly version: number;
  /** The order after the change; undefined when the change deleted it. */
  readonly order: { readonly status: OrderStatus; readonly recorded: RecordedOrder } | undefined;
}

/** Every change of an order, one per version, from the outbox (infra/order-event-log.ts). */
export interface OrderEventLog {
  /**
   * The changes of `orderId` after `version`, oldest first, at most `limit`.
   * Only those still kept: retention purges published ones, and changes
   * made before the events contract have no version; a gap means gone.
   */
  after(orderId: string, version: number, limit: number): Promise<RecordedChange[]>;
}

/** A timeline entry as stored, with its position among the order's entries (the page key). */
export interface StoredTimelineEntry extends TimelineEntry {
  readonly id: number;
}

/** Orders' timelines (infra/order-timeline.ts): written with every change, read a page at a time. */
export interface OrderTimelineLog {
  /**
   * The entries of the (not deleted) order `orderId` after position
   * `afterId`, oldest first, at most `limit`, staff-only ones only with
   * `staffOnly`; with the order's customer, for the caller's scope.
   * undefined: no such order, or it is deleted.
   */
  page(
    orderId: string,
    opts: { readonly afterId: number | undefined; readonly limit: number; readonly staffOnly: boolean },
  ): Promise<{ readonly customerId: string; readonly entries: readonly StoredTimelineEntry[] } | undefined>;
}
