/**
 * The orders repository on Postgres/PGlite. Every write method owns its
 * transaction: lock, decide (pure domain), write order + history + outbox
 * + timeline, commit, then tell in-process watchers. Creating an order is one statement
 * (order-statements.ts), as are the idempotency lookup and the reservation
 * state move.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { boundedTransaction } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import type { DomainError } from "../../kernel/errors.js";
import { etagMismatch, orderNotFound, paymentEventReused } from "../domain/order-errors.js";
import { etagOf, type Order, type ReservationState } from "../domain/order.js";
import type { OrderRepository, StoredPaymentReport, UpdateGuard } from "../domain/ports.js";
import { isDecision, unchanged, type Decision } from "../domain/transition.js";
import { findOrder, hydrate, listOrders } from "./order-queries.js";
import { searchOrders } from "./order-search.js";
import { historyValues, mutableValues } from "./order-rows.js";
import { createOrderStatements } from "./order-statements.js";
import { eventRowsStatement } from "./order-timeline.js";
import { orderHistory, orders, paymentReports } from "./schema.js";

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
    async reportPayment(id, report, guard, fn, cx) {
      const decision = await boundedTransaction(
        db,
        cx,
        (tx) => updateOrder(tx as unknown as Db, id, guard, fn, paymentReportHooks(tx as unknown as Db, id, report)),
        "orders_report_payment_tx",
      );
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
    search: (query, after, limit) => searchOrders(db, query, after, limit),
    async markRestocked(orderId, restockId) {
      await db.transaction(async (t) => {
        const tx = t as unknown as Db;
        const [row] = await tx.select({ restocks: orders.restocks }).from(orders).where(eq(orders.id, orderId)).for("update");
        if (!row) return;
        const restocks = row.restocks.map((r) => (r.id === restockId ? { ...r, state: "DONE" } : r));
        await tx
          .update(orders)
          .set({ restocks, restockPending: restocks.some((r) => r.state === "PENDING") })
          .where(eq(orders.id, orderId));
      });
    },
    async restocksDue(limit) {
      const rows = await db.select().from(orders).where(eq(orders.restockPending, true)).orderBy(orders.updateTime).limit(limit);
      return hydrate(db, rows);
    },
  };
}

/** What a kind of update adds to the generic one, inside its transaction. */
interface UpdateHooks {
  /** After the lock, before the guard's etag: true when the command was already applied (nothing to do). */
  readonly alreadyApplied: (order: Order) => Promise<boolean>;
  /** After the order's rows are written. */
  readonly written: (decision: Decision) => Promise<void>;
}

async function updateOrder(
  tx: Db,
  id: string,
  { etag, customerScope, alreadyApplied }: UpdateGuard,
  fn: (order: Order) => Decision | DomainError,
  hooks?: UpdateHooks,
): Promise<Decision> {
  const rows = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.id, id), isNull(orders.deleteTime)))
    .for("update");
  const [order] = await hydrate(tx, rows);
  if (!order || (customerScope !== undefined && order.customerId !== customerScope)) throw orderNotFound(id);
  if (alreadyApplied?.(order) || (hooks && (await hooks.alreadyApplied(order)))) return unchanged(order);
  if (etag && etag !== etagOf(order)) throw etagMismatch(id);
  const decision = fn(order);
  if (!isDecision(decision)) throw decision;
  if (!decision.changed) return decision;
  await tx.update(orders).set(mutableValues(decision.order, order)).where(eq(orders.id, id));
  if (decision.changes.length > 0) await tx.insert(orderHistory).values(historyValues(id, decision.changes));
  // The outbox rows with the timeline's entries: one statement.
  await tx.execute(eventRowsStatement(tx, decision));
  await hooks?.written(decision);
  return decision;
}

/**
 * A payment report's idempotency, under the order's row lock: reports of
 * one order are serialised by it, and the provider event id's primary key
 * refuses the same id on another order (a racing insert waits for the
 * other transaction, then conflicts).
 */
function paymentReportHooks(tx: Db, orderId: string, report: StoredPaymentReport): UpdateHooks {
  return {
    async alreadyApplied() {
      const [found] = await tx.select().from(paymentReports).where(eq(paymentReports.providerEventId, report.eventId));
      if (!found) return false;
      const same =
        found.orderId === orderId &&
        found.kind === report.kind &&
        found.currency === report.currency &&
        found.amountMinor === report.amountMinor &&
        found.reason === report.reason;
      if (!same) throw paymentEventReused();
      return true;
    },
    async written(decision) {
      const [reported] = decision.events.filter((e) => e.kind === "PAYMENT_REPORTED");
      const stored = await tx
        .insert(paymentReports)
        .values({ ...report, providerEventId: report.eventId, orderId, version: reported?.order.version ?? decision.order.version, reportTime: decision.order.updateTime })
        .onConflictDoNothing()
        .returning({ id: paymentReports.providerEventId });
      // The id was taken meanwhile by a report of another order: this one is refused, and rolls back.
      if (stored.length === 0) throw paymentEventReused();
    },
  };
}
