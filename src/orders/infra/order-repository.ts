/**
 * The orders repository on Postgres/PGlite. Every write method owns its
 * transaction: lock, decide (pure domain), write order + history + outbox,
 * commit, then tell in-process watchers.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import type { DomainError } from "../../kernel/errors.js";
import { etagMismatch, orderNotFound } from "../domain/order-errors.js";
import { etagOf, type Order, type ReservationState } from "../domain/order.js";
import type { CreateResult, IdempotencyRecord, OrderRepository } from "../domain/ports.js";
import { isDecision, type Decision } from "../domain/transition.js";
import { findOrder, hydrate, listOrders } from "./order-queries.js";
import { decisionEvent, eventValues, historyValues, lineValues, mutableValues, orderValues } from "./order-rows.js";
import { idempotencyKeys, orderHistory, orderLines, orders, outbox } from "./schema.js";

export function createOrderRepository(db: Db, onCommit: (orderId: string) => void): OrderRepository {
  return {
    findById: (id, opts) => findOrder(db, id, opts?.includeDeleted ?? false),
    findIdempotencyRecord: (customerId, requestId) => findRecord(db, customerId, requestId),
    async create(order, payloadHash) {
      const result = await db.transaction((tx) => insertOrder(tx as unknown as Db, order, payloadHash));
      if (result.kind === "created") onCommit(order.id);
      return result;
    },
    async update(id, etag, fn) {
      const decision = await db.transaction((tx) => updateOrder(tx as unknown as Db, id, etag, fn));
      if (decision.changed) onCommit(id);
      return decision;
    },
    async setReservationState(id, from, to) {
      const moved = await db
        .update(orders)
        .set({ reservationState: to })
        .where(and(eq(orders.id, id), inArray(orders.reservationState, [...from])))
        .returning({ id: orders.id });
      return moved.length > 0;
    },
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

async function findRecord(db: Db, customerId: string, requestId: string): Promise<IdempotencyRecord | undefined> {
  const [rec] = await db
    .select({ orderId: idempotencyKeys.orderId, payloadHash: idempotencyKeys.payloadHash })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.customerId, customerId.toLowerCase()), eq(idempotencyKeys.requestId, requestId)));
  return rec;
}

/**
 * The idempotency record goes first: a racing duplicate waits on its unique
 * key until the winner commits, then sees the winner's record.
 */
async function insertOrder(tx: Db, order: Order, payloadHash: string): Promise<CreateResult> {
  const claimed = await tx
    .insert(idempotencyKeys)
    .values({
      customerId: order.customerId,
      requestId: order.requestId,
      payloadHash,
      orderId: order.id,
      createTime: order.createTime,
    })
    .onConflictDoNothing()
    .returning({ orderId: idempotencyKeys.orderId });
  if (claimed.length === 0) {
    const record = await findRecord(tx, order.customerId, order.requestId);
    if (!record) throw new Error(`idempotency record of order ${order.id} vanished`);
    return { kind: "duplicate", record };
  }
  await tx.insert(orders).values(orderValues(order));
  await tx.insert(orderLines).values(lineValues(order));
  await tx.insert(orderHistory).values(historyValues(order.id, order.history));
  await tx.insert(outbox).values(eventValues(order, order.history, true));
  return { kind: "created", order };
}

async function updateOrder(
  tx: Db,
  id: string,
  etag: string | undefined,
  fn: (order: Order) => Decision | DomainError,
): Promise<Decision> {
  const rows = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.id, id), isNull(orders.deleteTime)))
    .for("update");
  const [order] = await hydrate(tx, rows);
  if (!order) throw orderNotFound(id);
  if (etag && etag !== etagOf(order)) throw etagMismatch(id);
  const decision = fn(order);
  if (!isDecision(decision)) throw decision;
  if (!decision.changed) return decision;
  await tx.update(orders).set(mutableValues(decision.order)).where(eq(orders.id, id));
  if (decision.changes.length > 0) await tx.insert(orderHistory).values(historyValues(id, decision.changes));
  await tx.insert(outbox).values(decisionEvent(decision));
  return decision;
}
