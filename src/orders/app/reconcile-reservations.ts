/**
 * The reconciler: drives every order's reservation to where the order says
 * it should be, after crashes and failed calls. A PENDING order (stored, its
 * sale not confirmed) is confirmed as soon as inventory answers, its stock
 * held again if the hold expired meanwhile; only if the stock is gone is it
 * cancelled (LOST_HOLD: it was never acknowledged). RELEASE_PENDING →
 * release. An acknowledged order is never cancelled here: a CONFIRMED row
 * still waiting for its commit (stored before acknowledge-once-sold) is
 * committed, and if its hold is lost it is kept and reported. A restock
 * still PENDING (the unshipped rest of an order, cancelled) is returned.
 */
import { backgroundContext, type CallContext } from "../../kernel/call-context.js";
import type { Order } from "../domain/order.js";
import { isHoldLost, type ReservationSettler } from "./reservation-settler.js";
import type { Restocker } from "./restocks.js";
import type { OrderAppPorts } from "./ports.js";

export const RECONCILER_ACTOR = "system:reconciler";
/** Orders settled per pass at most; the periodic runs take the rest. */
const BATCH = 500;

/**
 * What settling an order did: a PENDING order confirmed (its stock sold) or
 * cancelled (its stock gone); a cancelled order's stock released; an
 * acknowledged order's sale committed.
 */
export type SettleAction = "confirmed" | "cancelled" | "released" | "committed" | "restocked";
export const SETTLE_ACTIONS: readonly SettleAction[] = ["confirmed", "cancelled", "released", "committed", "restocked"];

/** `settleBudgetMs`: each order's calls' budget; `onOrderSettled`: reconciler_orders_settled_total{action}. */
export interface ReconcileDeps extends Pick<OrderAppPorts, "repo" | "log" | "settleBudgetMs" | "onOrderSettled"> {
  readonly settler: ReservationSettler;
  /** Returns the stock of restocks still PENDING (the unshipped rest of an order). */
  readonly restocker: Restocker;
}

export function createReconcileReservations(deps: ReconcileDeps) {
  const { repo, settler, log } = deps;

  /** A call context of `settleBudgetMs` that also ends when the pass is stopped. */
  const contextFor = (stop: AbortSignal | undefined): CallContext => {
    const cx = backgroundContext(deps.settleBudgetMs, RECONCILER_ACTOR);
    return stop ? { ...cx, signal: AbortSignal.any([stop, cx.signal]) } : cx;
  };

  /** What was done, or undefined when the order is left for a later pass. */
  const settle = async (order: Order, stop: AbortSignal | undefined): Promise<SettleAction | undefined> => {
    const cx = contextFor(stop);
    try {
      if (order.reservationState === "RELEASE_PENDING") {
        await settler.release(cx, order, "order cancelled");
        return "released";
      }
      if (order.status === "PENDING") {
        const { status } = await settler.settlePending(cx, order);
        return status === "PENDING" ? undefined : status === "CONFIRMED" ? "confirmed" : "cancelled";
      }
      await settler.commit(cx, order);
      return "committed";
    } catch (err) {
      if (stop?.aborted) return undefined;
      if (order.reservationState === "PENDING" && order.status !== "PENDING" && isHoldLost(err)) {
        // Acknowledged before its sale was recorded, and the hold is gone: never taken back; a person must look.
        log.error({ orderId: order.id, status: order.status }, "acknowledged order lost its stock hold; kept, needs attention");
        return undefined;
      }
      log.warn({ err, orderId: order.id }, "reservation not settled; will retry");
      return undefined;
    }
  };

  /** One pass; resolves to the number of orders settled. `stop` ends it between orders and aborts the calls. */
  return async function reconcile(stop?: AbortSignal): Promise<number> {
    let settled = 0;
    for (const order of await repo.unsettled(BATCH)) {
      if (stop?.aborted) break;
      const action = await settle(order, stop);
      if (action === undefined) continue;
      settled++;
      deps.onOrderSettled?.(action);
    }
    for (const order of await repo.restocksDue(BATCH)) {
      if (stop?.aborted) break;
      try {
        if (!(await deps.restocker.restock(contextFor(stop), order))) continue;
      } catch (err) {
        if (!stop?.aborted) log.warn({ err, orderId: order.id }, "stock not returned; will retry");
        continue;
      }
      settled++;
      deps.onOrderSettled?.("restocked");
    }
    return settled;
  };
}
