/**
 * Reservations in Postgres through Drizzle, keyed by (owner, id): an owner
 * (the principal that made them) sees only its own. The transactions and the
 * sell take their locks in one order: the existing reservation row first,
 * then product rows by id. A transaction that waits for a reservation row
 * holds no product lock yet, so those waits cannot form a cycle.
 *
 * A hold is one statement (reservation-statements.ts) that holds every line
 * or, writing nothing, reports the stock it read under lock; a refused hold
 * is explained from that report (refusedHold), a repeat answered from the
 * stored reservation. Its locks: products by id, then the new reservation's
 * key, which only another hold of the same id (holding all of its product
 * locks already, waiting on nothing) can make it wait for; it never waits
 * for an existing reservation's row lock, so it joins no cycle either. The
 * commit of a live pending reservation is one statement too; the
 * transactions below decide everything else: commits of reservations in
 * other states, releases, returns, expiry.
 * Each writes its events (low or replenished stock, expired reservations:
 * inventory-events.ts) in its own transaction or statement.
 *
 * A return (ReturnStock) is a transaction under the reservation's row lock
 * (`for update`), like a transition: concurrent returns of one reservation,
 * and a release racing them, are decided one after the other, each reading
 * the returned quantities (and return records) the one before committed.
 */
import { and, asc, eq, lte, sql } from "drizzle-orm";
import { boundedTransaction } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import { reservationNotFound } from "../domain/errors.js";
import { quantitiesByProduct, stockMoveOf, transitionQuantities, type TransitionPlan } from "../domain/lifecycle.js";
import type { ReservationRepository } from "../domain/ports.js";
import { repeatOf, type Reservation, type ReservationRequest } from "../domain/reservation.js";
import { refusedHold } from "../domain/stock-hold.js";
import { ensureSameReturn, planReturn, type ReturnRequest } from "../domain/stock-return.js";
import type { InventoryEvents, InventoryEventWriter } from "./inventory-events.js";
import { groupedReservationStatements } from "./reservation-batches.js";
import { createReservationStatements } from "./reservation-statements.js";
import { lineFromRow, reservationFromRow, type Tx } from "./rows.js";
import { reservationLines, reservations, stockReturns } from "./schema.js";
import { moveStock } from "./stock-statements.js";

/** Holds of one id that found it taken and then gone (purged in between) before this one gives up. */
const HOLD_ATTEMPTS = 3;

export function createReservationRepository(db: Db, events: InventoryEvents, onGroupError?: (err: unknown, size: number) => void): ReservationRepository {
  // Holds and sells that arrive together run as one statement each (reservation-batches.ts: a flash sale's hot rows).
  const stockEvents = events.threshold > 0n;
  const statements = groupedReservationStatements(db, stockEvents, createReservationStatements(db, stockEvents), onGroupError);
  const hold = (request: ReservationRequest) =>
    events.within(async (w) => {
      const outcome = await statements.hold(request, events.threshold);
      if (outcome.kind === "HELD") w.wrote(outcome.events);
      return outcome;
    });
  return {
    async reserve(request) {
      const { owner, id } = request;
      for (let attempt = 1; ; attempt++) {
        const outcome = await hold(request);
        if (outcome.kind === "HELD") return { reservation: outcome.reservation, created: true };
        // Nothing was written. A reservation with this id (a repeat, or a duplicate that committed
        // while this hold waited for its locks) answers the call; only without one is a shortage the caller's.
        const existing = await load(db, owner, id);
        if (existing) return { reservation: repeatOf(existing, request), created: false };
        if (outcome.kind === "SHORT") refusedHold(id, request.lines, outcome.levels);
        if (attempt >= HOLD_ATTEMPTS) throw new Error(`reservation ${id} was taken and gone ${attempt} times`);
      }
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
