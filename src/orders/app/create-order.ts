/**
 * CreateOrder: idempotency check → customer must be ACTIVE → reserve stock
 * (deterministic reservation id) → one transaction (order, lines, history,
 * idempotency record, outbox) → commit the reservation. A failed transaction
 * releases the reservation; a crash after it leaves the commit to the
 * reconciler; a crash before it leaves a reservation that simply expires.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { aborted } from "../../kernel/errors.js";
import type { Money } from "../domain/money.js";
import {
  buildOrder,
  orderIdFor,
  requestFingerprint,
  reservationIdFor,
  reservationLines,
  type NewOrderRequest,
} from "../domain/new-order.js";
import type { Order } from "../domain/order.js";
import { customerInactive, idempotencyKeyReused, orderDeleted, orderNotFound } from "../domain/order-errors.js";
import type { CustomerPort, IdempotencyRecord, InventoryPort, InventoryReservation, OrderRepository } from "../domain/ports.js";
import type { ReservationSettler } from "./reservation-settler.js";

export interface CreateOrderDeps {
  readonly repo: OrderRepository;
  readonly inventory: InventoryPort;
  readonly customers: CustomerPort;
  readonly settler: ReservationSettler;
  readonly now?: () => Date;
}

/** Reservation ids tried per order before giving up (see reservationIdFor). */
const MAX_RESERVATION_ATTEMPTS = 5;

export function createCreateOrder(deps: CreateOrderDeps) {
  const { repo, settler } = deps;
  const now = deps.now ?? (() => new Date());

  /** Gives the stock back unless a racing duplicate already stored its order on it. */
  const releaseUnused = async (orderId: string, reservationId: string, reason: string) => {
    if (await repo.findById(orderId, { includeDeleted: true }).catch(() => undefined)) return;
    await settler.discard(reservationId, reason);
  };

  return async function createOrder(cx: CallContext, req: NewOrderRequest): Promise<Order> {
    const orderId = orderIdFor(req.customerId, req.requestId);
    const payloadHash = requestFingerprint(req);
    const earlier = await repo.findIdempotencyRecord(req.customerId, req.requestId);
    if (earlier) return replay(repo, earlier, payloadHash);

    const customer = await deps.customers.get(cx, req.customerId);
    if (!customer.active) throw customerInactive(req.customerId);
    const reservation = await reserve(deps.inventory, cx, orderId, req);
    let result;
    try {
      const prices = new Map<string, Money>(reservation.lines.map((l) => [l.productId, l.unitPrice]));
      const draft = { id: orderId, reservationId: reservation.id, at: now(), actor: cx.actor ?? "" };
      result = await repo.create(buildOrder(req, prices, draft), payloadHash);
    } catch (err) {
      await releaseUnused(orderId, reservation.id, "order not stored");
      throw err;
    }
    if (result.kind === "duplicate") return replay(repo, result.record, payloadHash);
    await settler.commitSoon(result.order);
    return result.order;
  };
}

/** A repeated request: the original order, or IDEMPOTENCY_KEY_REUSED for another payload. */
async function replay(repo: OrderRepository, record: IdempotencyRecord, payloadHash: string): Promise<Order> {
  if (record.payloadHash !== payloadHash) throw idempotencyKeyReused();
  const order = await repo.findById(record.orderId, { includeDeleted: true });
  if (!order) throw orderNotFound(record.orderId);
  if (order.deleted) throw orderDeleted(order.id);
  return order;
}

/**
 * Holds the stock under the order's reservation id. A reservation found
 * released or expired (an earlier failed attempt of this request) is skipped
 * for the next id in the order's deterministic sequence.
 */
async function reserve(
  inventory: InventoryPort,
  cx: CallContext,
  orderId: string,
  req: NewOrderRequest,
): Promise<InventoryReservation> {
  const lines = reservationLines(req.items);
  for (let attempt = 0; attempt < MAX_RESERVATION_ATTEMPTS; attempt++) {
    const r = await inventory.reserve(cx, reservationIdFor(orderId, attempt), lines);
    if (r.status === "PENDING" || r.status === "COMMITTED") return r;
  }
  throw aborted("RESERVATION_RETRIES_EXHAUSTED", `could not hold stock for order ${orderId}; retry later`);
}
