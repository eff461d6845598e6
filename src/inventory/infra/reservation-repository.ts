/**
 * Reservations in Postgres through Drizzle, keyed by (owner, id): an owner
 * (the principal that made them) sees only its own. Locks are always taken in the
 * same order: the reservation row first, then product rows by id. A
 * transaction that waits for a reservation row holds no product lock yet,
 * so the waits cannot form a cycle.
 *
 * The common paths (a new reservation that can be held, the commit of a live
 * pending one) are single statements (reservation-statements.ts); the
 * transactions below decide everything else: repeats, a hold that fails
 * (they explain why under lock), commits of reservations in other states.
 * Each writes its events (low or replenished stock, expired reservations:
 * inventory-events.ts) in its own transaction or statement.
 *
 * A return (ReturnStock) is a transaction under the reservation's row lock
 * (`for update`), like a transition: concurrent returns of one reservation,
 * and a release racing them, are decided one after the other, each reading
 * the returned quantities (and return records) the one before committed.
 */
import { and, asc, eq, lte, sql } from "drizzle-orm";
import { boundedTransaction, type DbBound } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import { reservationNotFound } from "../domain/errors.js";
import { quantitiesByProduct, stockMoveOf, transitionQuantities, type TransitionPlan } from "../domain/lifecycle.js";
import type { ReservationRepository } from "../domain/ports.js";
import { repeatOf, type Reservation, type ReservationRequest } from "../domain/reservation.js";
import { planHold } from "../domain/stock-hold.js";
import { ensureSameReturn, planReturn, type ReturnRequest } from "../domain/stock-return.js";
import { NOT_NULL_VIOLATION, sqlStateOf } from "../../platform/statements.js";
import type { InventoryEvents, InventoryEventWriter } from "./inventory-events.js";
import { createReservationStatements } from "./reservation-statements.js";
import { lineFromRow, lineToRow, reservationFromRow, type Tx } from "./rows.js";
import { reservationLines, reservations, stockReturns } from "./schema.js";
import { holdStock, lockStockLevels, moveStock } from "./stock-statements.js";

export function createReservationRepository(db: Db, events: InventoryEvents): ReservationRepository {
  const statements = createReservationStatements(db, events.threshold > 0n);
  const reserveSlowly = (request: ReservationRequest, cx: DbBound | undefined) =>
    events.within((w) => boundedTransaction(db, cx, (tx) => reserveIn(tx, request, w), "inventory_reserve_tx"));
  return {
    async reserve(request, cx) {
      let held;
      try {
        held = await events.within(async (w) => {
          const h = await statements.hold(request, events.threshold);
          if (h) w.wrote(h.events);
          return h;
        });
      } catch (err) {
        // A line could not be held; nothing stayed. The transaction says why (or holds it now).
        if (sqlStateOf(err) === NOT_NULL_VIOLATION) return reserveSlowly(request, cx);
        throw err;
      }
      if (held) return { reservation: held.reservation, created: true };
      return reserveSlowly(request, cx); // the id exists: a repeat
    },
    findById: (owner, id) => load(db, owner, id),
    commitPending: (owner, id, now) => statements.sell(owner, id, now),
    transition: (owner, id, plan, now, cx) =>
      events.within((w) => boundedTransaction(db, cx, (tx) => transitionIn(tx, owner, id, plan, now, w), "inventory_transition_reservation_tx")),
    returnStock: (request, cx) =>
      events.within((w) => boundedTransaction(db, cx, (tx) => returnIn(tx, request, w), "inventory_return_stock_tx")),
    expireDue: (now, limit) => events.within((w) => boundedTransaction(db, undefined, (tx) => expireDueIn(tx, now, limit, w), "inventory_expire_due_tx")),
  };
}

async function reserveIn(tx: Tx, request: ReservationRequest, events: InventoryEventWriter) {
  const { owner, id, now, expireTime } = request;
  // The primary key makes concurrent duplicates wait here for the first one's outcome.
  const inserted = await tx
    .insert(reservations)
    .values({ owner, id, status: "PENDING", expiresAt: expireTime, createTime: now, updateTime: now })
    .onConflictDoNothing({ target: [reservations.owner, reservations.id] })
    .returning({ id: reservations.id });
  if (inserted.length === 0) {
    const existing = await load(tx, owner, id);
    if (!existing) throw new Error(`reservation ${id} conflicted but cannot be read`);
    return { reservation: repeatOf(existing, request), created: false };
  }
  const levels = await lockStockLevels(tx, request.lines.map((l) => l.productId));
  const lines = planHold(id, request.lines, levels);
  await holdStock(tx, lines, now, events);
  await tx.insert(reservationLines).values(lines.map((l) => lineToRow(owner, id, l)));
  const reservation: Reservation = { id, status: "PENDING", lines, expireTime, createTime: now, updateTime: now };
  return { reservation, created: true };
}

const byKey = (owner: string, id: string) => and(eq(reservations.owner, owner), eq(reservations.id, id));

async function load(tx: Tx | Db, owner: string, id: string, lock = false): Promise<Reservation | undefined> {
  const query = tx.select().from(reservations).where(byKey(owner, id));
  const rows = lock ? await query.for("update") : await query;
  if (!rows[0]) return undefined;
  const lines = await tx
    .select()
    .from(reservationLines)
    .where(and(eq(reservationLines.owner, owner), eq(reservationLines.reservationId, id)))
    .orderBy(asc(reservationLines.productId));
  return reservationFromRow(rows[0], lines.map(lineFromRow));
}

async function transitionIn(tx: Tx, owner: string, id: string, plan: TransitionPlan, now: Date, events: InventoryEventWriter): Promise<Reservation> {
  const current = await load(tx, owner, id, true);
  if (!current) throw reservationNotFound(id);
  const to = plan(current);
  if (to === undefined) return current;
  const updated = await tx
    .update(reservations)
    .set({ status: to, updateTime: now })
    .where(and(byKey(owner, id), eq(reservations.status, current.status)))
    .returning();
  if (!updated[0]) throw new Error(`reservation ${id} changed under its lock`);
  // A committed reservation's returned units are back already: its release restocks only the rest.
  await moveStock(tx, stockMoveOf(current.status, to), transitionQuantities(current.lines), now, events);
  return reservationFromRow(updated[0], current.lines);
}

async function returnIn(tx: Tx, request: ReturnRequest, events: InventoryEventWriter): Promise<{ reservation: Reservation; returned: boolean }> {
  const { owner, reservationId: id, returnId, now } = request;
  // The reservation row first (as everywhere), then its lines, then product rows in id order (moveStock).
  const current = await load(tx, owner, id, true);
  if (!current) throw reservationNotFound(id);
  const [recorded] = await tx
    .select({ lines: stockReturns.lines, reason: stockReturns.reason })
    .from(stockReturns)
    .where(and(eq(stockReturns.owner, owner), eq(stockReturns.reservationId, id), eq(stockReturns.returnId, returnId)));
  if (recorded) {
    ensureSameReturn(recorded, request);
    return { reservation: current, returned: false };
  }
  const lines = planReturn(current, request);
  const recordedLines = request.lines.map(({ productId, quantity }) => ({ productId, quantity }));
  await tx.insert(stockReturns).values({ owner, reservationId: id, returnId, lines: recordedLines, reason: request.reason, createTime: now });
  // Guarded like the stock: a line that would pass what it sold means the plan and the locked rows disagree (a bug).
  for (const { productId, quantity } of request.lines) {
    const updated = await tx
      .update(reservationLines)
      .set({ returnedQuantity: sql`${reservationLines.returnedQuantity} + ${quantity}::int` })
      .where(
        and(
          eq(reservationLines.owner, owner),
          eq(reservationLines.reservationId, id),
          eq(reservationLines.productId, productId),
          sql`${reservationLines.returnedQuantity} + ${quantity}::int <= ${reservationLines.quantity}`,
        ),
      )
      .returning({ productId: reservationLines.productId });
    if (!updated[0]) throw new Error(`reservation ${id} line ${productId} changed under its lock`);
  }
  await moveStock(tx, "RESTOCK", quantitiesByProduct(request.lines), now, events);
  return { reservation: { ...current, lines }, returned: true };
}

async function expireDueIn(tx: Tx, now: Date, limit: number, events: InventoryEventWriter): Promise<string[]> {
  const due = await tx
    .select({ owner: reservations.owner, id: reservations.id })
    .from(reservations)
    // A literal status so the planner can use the partial index.
    .where(and(sql`${reservations.status} = 'PENDING'`, lte(reservations.expiresAt, now)))
    .orderBy(asc(reservations.expiresAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  if (due.length === 0) return [];
  const keys = sql.join(due.map((d) => sql`(${d.owner}, ${d.id})`), sql`, `);
  const expired = await tx
    .update(reservations)
    .set({ status: "EXPIRED", updateTime: now })
    .where(and(sql`(${reservations.owner}, ${reservations.id}) in (${keys})`, eq(reservations.status, "PENDING")))
    .returning({ owner: reservations.owner, id: reservations.id, expiresAt: reservations.expiresAt });
  if (expired.length === 0) return [];
  const expiredKeys = sql.join(expired.map((d) => sql`(${d.owner}, ${d.id})`), sql`, `);
  const lines = await tx
    .select({ owner: reservationLines.owner, id: reservationLines.reservationId, productId: reservationLines.productId, quantity: reservationLines.quantity })
    .from(reservationLines)
    .where(sql`(${reservationLines.owner}, ${reservationLines.reservationId}) in (${expiredKeys})`)
    .orderBy(asc(reservationLines.productId));
  const key = (r: { owner: string; id: string }) => `${r.owner}\u0000${r.id}`;
  const linesOf = new Map<string, typeof lines>();
  for (const l of lines) linesOf.set(key(l), [...(linesOf.get(key(l)) ?? []), l]);
  const ended = expired.map((e) => ({ owner: e.owner, id: e.id, expireTime: e.expiresAt, lines: linesOf.get(key(e)) ?? [] }));
  await events.reservationsExpired(tx, ended, now);
  await moveStock(tx, stockMoveOf("PENDING", "EXPIRED"), quantitiesByProduct(lines), now, events);
  return expired.map((e) => e.id);
}
