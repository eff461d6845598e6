/**
 * Moves an order's inventory reservation to where the order says it should
 * be, and confirms an order once its stock is sold: an order is acknowledged
 * (CONFIRMED) only after the sale. Every step is idempotent on both sides
 * (inventory by reservation id, ours by a guarded write), so CreateOrder, its
 * duplicates, the cancel path and the reconciler may race.
 */
import { backgroundContext, type CallContext } from "../../kernel/call-context.js";
import { isDomainError } from "../../kernel/errors.js";
import { attemptOf, reservationLines } from "../domain/new-order.js";
import type { Order } from "../domain/order.js";
import { orderNotFound } from "../domain/order-errors.js";
import { decide, isDecision, unchanged } from "../domain/transition.js";
import { holdStock } from "./hold-stock.js";
import type { OrderAppPorts } from "./ports.js";

/** History reason of a PENDING order cancelled because its stock could not be held again. */
export const LOST_HOLD = "LOST_HOLD";
const LOST = new Set(["RESERVATION_EXPIRED", "RESERVATION_RELEASED", "RESERVATION_NOT_FOUND"]);
/** No stock to hold again: the PENDING order cannot be completed. */
const GONE = new Set(["INSUFFICIENT_STOCK", "RESERVATION_RETRIES_EXHAUSTED"]);

/** Inventory says the reservation no longer holds anything (expired or released). */
export const isHoldLost = (err: unknown) => isDomainError(err) && LOST.has(err.reason);

export interface ReservationSettler {
  /** Sells the held stock of an order already acknowledged (a CONFIRMED row stored before its sale). */
  commit(cx: CallContext, order: Order): Promise<void>;
  /**
   * PENDING → CONFIRMED: sells the held stock at inventory (within `cx`),
   * then confirms in one version-guarded write. Resolves to the order as it
   * stands: CONFIRMED, or what a concurrent change made of it. Throws what
   * inventory throws (a lost hold: RESERVATION_EXPIRED...).
   */
  confirm(cx: CallContext, order: Order, reason?: string): Promise<Order>;
  /**
   * `confirm`, and when the hold was lost: holds the stock again under the
   * next reservation id and confirms, or, the stock being gone, cancels the
   * (never acknowledged) order with reason LOST_HOLD.
   */
  settlePending(cx: CallContext, order: Order): Promise<Order>;
  release(cx: CallContext, order: Order, reason: string): Promise<void>;
  /** After our transaction, on behalf of the caller's `actor`: try now, leave it to the reconciler on failure. */
  releaseSoon(order: Order, reason: string, actor: string): Promise<void>;
  /** Releases a reservation no order was stored with (quietly; else it expires). */
  discard(reservationId: string, reason: string, actor: string): Promise<void>;
}

/** `settleBudgetMs`: budget of a settlement call made after the caller's work is done. */
export type SettlerDeps = Pick<OrderAppPorts, "repo" | "inventory" | "log" | "settleBudgetMs">;

/** Guarded writes retried on a concurrent change that leaves the order PENDING (e.g. shipping info set). */
const CONFIRM_TRIES = 3;

export function createReservationSettler(deps: SettlerDeps): ReservationSettler {
  const { repo, inventory, log } = deps;
  const reread = async (id: string) => {
    const order = await repo.findById(id, { includeDeleted: true });
    if (!order) throw orderNotFound(id);
    return order;
  };

  const cancelLostHold = async (cx: CallContext, order: Order): Promise<Order> => {
    log.warn({ orderId: order.id }, "PENDING order's stock is gone; cancelling it (never acknowledged)");
    const meta = { at: new Date(), actor: cx.actor };
    const { order: after } = await repo.update(order.id, {}, (o) =>
      o.status === "PENDING" ? decide(o, { kind: "SET_STATUS", to: "CANCELLED", reason: LOST_HOLD }, meta) : unchanged(o),
    );
    if (after.reservationState === "RELEASE_PENDING") await settler.releaseSoon(after, LOST_HOLD, cx.actor);
    return after;
  };

  /** The hold of a PENDING order was lost (it expired while inventory was away): hold its stock again. */
  const holdAgain = async (cx: CallContext, order: Order): Promise<Order> => {
    log.warn({ orderId: order.id, reservationId: order.reservationId }, "PENDING order lost its stock hold; holding it again");
    let held;
    try {
      held = await holdStock(inventory, cx, order.id, reservationLines(order.lines), attemptOf(order.reservationId) + 1);
    } catch (err) {
      if (isDomainError(err) && GONE.has(err.reason)) return cancelLostHold(cx, order);
      throw err;
    }
    if (await repo.moveReservation(order.id, order.reservationId, held.id)) {
      return settler.confirm(cx, { ...order, reservationId: held.id });
    }
    const current = await reread(order.id);
    if (current.status === "PENDING" && current.reservationId === held.id) return settler.confirm(cx, current);
    // Cancelled (or held by a racing settler under another id) meanwhile: our new hold belongs to no order.
    await settler.discard(held.id, "order no longer needs it", cx.actor);
    return current;
  };

  const settler: ReservationSettler = {
    async commit(cx, order) {
      if (order.status === "PENDING") {
        await settler.confirm(cx, order);
        return;
      }
      await inventory.commit(cx, order.reservationId);
      await repo.setReservationState(order.id, ["PENDING"], "COMMITTED");
    },
    async confirm(cx, order, reason = "stock sold") {
      let current = order;
      for (let i = 0; i < CONFIRM_TRIES && current.status === "PENDING"; i++) {
        await inventory.commit(cx, current.reservationId);
        const sold = { ...current, reservationState: "COMMITTED" as const };
        const decision = decide(sold, { kind: "SET_STATUS", to: "CONFIRMED", reason }, { at: new Date(), actor: cx.actor });
        if (!isDecision(decision)) throw decision;
        if (await repo.applyIfUnchanged(decision, current.version)) return decision.order;
        current = await reread(current.id);
      }
      return current;
    },
    async settlePending(cx, order) {
      if (order.status !== "PENDING") return order;
      try {
        return await settler.confirm(cx, order);
      } catch (err) {
        if (!isHoldLost(err)) throw err;
      }
      const current = await reread(order.id);
      if (current.status !== "PENDING") return current;
      if (current.reservationId !== order.reservationId) return settler.confirm(cx, current);
      return holdAgain(cx, current);
    },
    async release(cx, order, reason) {
      try {
        await inventory.release(cx, order.reservationId, reason);
      } catch (err) {
        // Gone: retention purges only released or expired reservations, so it holds nothing.
        if (!(isDomainError(err) && err.reason === "RESERVATION_NOT_FOUND")) throw err;
      }
      await repo.setReservationState(order.id, ["RELEASE_PENDING"], "RELEASED");
    },
    async releaseSoon(order, reason, actor) {
      try {
        await settler.release(backgroundContext(deps.settleBudgetMs, actor), order, reason);
      } catch (err) {
        log.warn({ err, orderId: order.id }, "release of reservation failed; the reconciler retries it");
      }
    },
    async discard(reservationId, reason, actor) {
      try {
        await inventory.release(backgroundContext(deps.settleBudgetMs, actor), reservationId, reason);
      } catch (err) {
        log.warn({ err, reservationId }, "release of an unused reservation failed; it will expire");
      }
    },
  };
  return settler;
}
