/**
 * The orders repository on Postgres/PGlite. Every write method owns its
 * transaction: lock, decide (pure domain), write order + history + outbox,
 * commit, then tell in-process watchers. Creating an order is one statement
 * (order-statements.ts), as are the idempotency lookup and the reservation
 * state move.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { boundedTransaction } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import type { DomainError } from "../../kernel/errors.js";
import { etagMismatch, orderNotFound } from "../domain/order-errors.js";
import { etagOf, type Order, type ReservationState } from "../domain/order.js";
import type { OrderRepository, UpdateGuard } from "../domain/ports.js";
import { isDecision, type Decision } from "../domain/transition.js";
import { findOrder, hydrate, listOrders } from "./order-queries.js";
import { decisionEvent, historyValues, mutableValues } from "./order-rows.js";
import { createOrderStatements } from "./order-statements.js";
import { orderHistory, orders, outbox } from "./schema.js";

export function createOrderRepository(db: Db, onCommit: (orderId: string) => void): OrderRepository {
  const statements = createOrderStatements(db);
  return {
    findById: (id, opts) => findOrder(db, id, opts?.includeDeleted ?? false),
    findIdempotencyRecord: (customerId, requestId, orderId) => statements.findRecord(customerId, requestId, orderId),
    async create(order, payloadHash) {
      const number = await statements.insert(order, payloadHash);
      if (number !== undefined) {
        onCommit(order.id);
        return { kind: "created", order: { ...order, number } };
      }
      // A duplicate of the request stored it first; its record is committed now.
      const record = await statements.findRecord(order.customerId, order.requestId, order.id);
      if (!record) throw new Error(`idempotency record of order ${order.id} vanished`);
      return { kind: "duplicate", record };
    },
    async update(id, guard, fn, cx) {
      const decision = await boundedTransaction(db, cx, (tx) => updateOrder(tx as unknown as Db, id, guard, fn), "orders_update_tx");
      if (decision.changed) onCommit(id);
      return decision;
    },
    setReservationState: (id, from, to) => statements.setReservationState(id, from, to),
    async applyIfUnchanged(decision, expectedVersion) {
      if (!decision.changed) return false;
      const applied = await statements.applyIfUnchanged(decision, expectedVersion);
      if (applied) onCommit(decision.order.id);
      return applied;
    },
    moveReservation: (id, from, to) => statements.moveReservation(id, from, to),
    async unsettled(limit) {
      const states: ReservationState[] = ["PENDING", "RELEASE_PENDING"];
      const rows = await db
        .select()
        .from(orders)
        .where(inArray(orders.reservationState, states))
        .orderBy(orders.updateTime)
        .limit(limit);
      return hydrate(db, rows);
    },
    list: (query, after, limit) => listOrders(db, query, after, limit),
  };
}

async function updateOrder(
  tx: Db,
  id: string,
  { etag, customerScope }: UpdateGuard,
  fn: (order: Order) => Decision | DomainError,
): Promise<Decision> {
  const rows = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.id, id), isNull(orders.deleteTime)))
    .for("update");
  const [order] = await hydrate(tx, rows);
  if (!order || (customerScope !== undefined && order.customerId !== customerScope)) throw orderNotFound(id);
  if (etag && etag !== etagOf(order)) throw etagMismatch(id);
  const decision = fn(order);
  if (!isDecision(decision)) throw decision;
  if (!decision.changed) return decision;
  await tx.update(orders).set(mutableValues(decision.order)).where(eq(orders.id, id));
  if (decision.changes.length > 0) await tx.insert(orderHistory).values(historyValues(id, decision.changes));
  await tx.insert(outbox).values(decisionEvent(decision));
  return decision;
}
