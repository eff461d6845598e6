/**
 * CreateOrder: a customer orders for themselves only → idempotency check →
 * customer must be ACTIVE → hold the stock (deterministic reservation id) →
 * store the order PENDING in one statement (order, lines, history,
 * idempotency record, outbox) → sell the stock at inventory within the
 * call's deadline → confirm in one version-guarded statement → OK with the
 * CONFIRMED order. An OK means the order stands: it is never answered for an
 * order whose stock is not sold. If the sale is not confirmed in time the
 * call fails UNAVAILABLE ORDER_NOT_CONFIRMED; a retry with the same
 * request_id (or the reconciler) confirms it. A failed store releases the
 * hold; a crash before the store leaves a hold that simply expires.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { Money } from "../domain/money.js";
import { buildOrder, orderFingerprint, orderIdFor, requestFingerprint, reservationLines, type NewOrderRequest } from "../domain/new-order.js";
import type { Order } from "../domain/order.js";
import {
  customerInactive,
  idempotencyKeyReused,
  notOwnCustomer,
  orderCancelled,
  orderDeleted,
  orderNotConfirmed,
  orderNotFound,
} from "../domain/order-errors.js";
import type { IdempotencyRecord } from "../domain/ports.js";
import { holdStock } from "./hold-stock.js";
import type { ReservationSettler } from "./reservation-settler.js";
import type { OrderAppPorts } from "./ports.js";

export interface CreateOrderDeps extends Pick<OrderAppPorts, "repo" | "inventory" | "customers" | "log" | "onOrderCreated"> {
  readonly settler: ReservationSettler;
  readonly now?: () => Date;
}

export function createCreateOrder(deps: CreateOrderDeps) {
  const { repo, settler, log } = deps;
  const now = deps.now ?? (() => new Date());

  /** Gives the stock back unless a racing duplicate already stored its order on it. */
  const releaseUnused = async (cx: CallContext, orderId: string, reservationId: string, reason: string) => {
    if (await repo.findById(orderId, { includeDeleted: true }).catch(() => undefined)) return;
    await settler.discard(reservationId, reason, cx.actor);
  };

  /** The order, once acknowledged: a PENDING one is sold and confirmed first, or the call fails ORDER_NOT_CONFIRMED. */
  const acknowledged = async (cx: CallContext, order: Order): Promise<Order> => {
    let current = order;
    if (order.status === "PENDING") {
      try {
        current = await settler.settlePending(cx, order);
      } catch (err) {
        log.warn({ err, orderId: order.id }, "sale of a stored order not confirmed; the retry or the reconciler confirms it");
        throw orderNotConfirmed(order.id);
      }
    }
    if (current.status === "PENDING") throw orderNotConfirmed(order.id);
    if (current.deleted) throw orderDeleted(current.id);
    // Cancelled before it was ever confirmed (stock gone, or by its customer): never acknowledged.
    if (!current.history.some((h) => h.to === "CONFIRMED")) throw orderCancelled(current.id);
    return current;
  };

  /**
   * A repeated request: the original order, or IDEMPOTENCY_KEY_REUSED for
   * another payload. Past the idempotency window (retention purged the
   * record) the order itself is the record, checked against its own
   * fingerprint: a late retry still replays, never holds stock again.
   */
  const replay = async (cx: CallContext, record: IdempotencyRecord, payloadHash: string): Promise<Order> => {
    if (record.payloadHash !== undefined && record.payloadHash !== payloadHash) throw idempotencyKeyReused();
    const order = await repo.findById(record.orderId, { includeDeleted: true });
    if (!order) throw orderNotFound(record.orderId);
    if (record.payloadHash === undefined && orderFingerprint(order) !== payloadHash) throw idempotencyKeyReused();
    if (order.deleted) throw orderDeleted(order.id);
    return acknowledged(cx, order);
  };

  return async function createOrder(cx: CallContext, req: NewOrderRequest): Promise<Order> {
    const scope = customerScope(cx.principal);
    if (scope !== undefined && req.customerId.toLowerCase() !== scope) throw notOwnCustomer();
    const orderId = orderIdFor(req.customerId, req.requestId);
    const payloadHash = requestFingerprint(req);
    const earlier = await repo.findIdempotencyRecord(req.customerId, req.requestId, orderId);
    if (earlier) return replay(cx, earlier, payloadHash);

    const customer = await deps.customers.get(cx, req.customerId);
    if (!customer.active) throw customerInactive(req.customerId);
    const reservation = await holdStock(deps.inventory, cx, orderId, reservationLines(req.items));
    let result;
    try {
      const prices = new Map<string, Money>(reservation.lines.map((l) => [l.productId, l.unitPrice]));
      const draft = { id: orderId, reservationId: reservation.id, at: now(), actor: cx.actor ?? "" };
      result = await repo.create(buildOrder(req, prices, draft), payloadHash);
    } catch (err) {
      await releaseUnused(cx, orderId, reservation.id, "order not stored");
      throw err;
    }
    if (result.kind === "duplicate") return replay(cx, result.record, payloadHash);
    deps.onOrderCreated?.(customer.tier, result.order.total.currency);
    return acknowledged(cx, result.order);
  };
}
