/**
 * The reconciler: drives every order's reservation to where the order says
 * it should be, after crashes or failed calls. PENDING → commit; a
 * reservation found expired or released meanwhile means the order lost its
 * stock, so the order is cancelled (no order exists without its stock).
 * RELEASE_PENDING → release.
 */
import type { Logger } from "pino";
import { backgroundContext } from "../../kernel/call-context.js";
import { isDomainError } from "../../kernel/errors.js";
import type { Order } from "../domain/order.js";
import type { OrderRepository } from "../domain/ports.js";
import { decide } from "../domain/transition.js";
import type { ReservationSettler } from "./reservation-settler.js";

export const RECONCILER_ACTOR = "system:reconciler";
const LOST = new Set(["RESERVATION_EXPIRED", "RESERVATION_RELEASED", "RESERVATION_NOT_FOUND"]);
/** Orders settled per pass at most; the periodic runs take the rest. */
const BATCH = 500;

export interface ReconcileDeps {
  readonly repo: OrderRepository;
  readonly settler: ReservationSettler;
  readonly logger: Logger;
  readonly budgetMs: number;
}

export function createReconcileReservations(deps: ReconcileDeps) {
  const { repo, settler, logger } = deps;

  const cancelLost = async (order: Order) => {
    const reason = "stock reservation expired before the order was confirmed";
    const meta = { at: new Date(), actor: RECONCILER_ACTOR };
    const { order: cancelled } = await repo.update(order.id, undefined, (o) =>
      decide(o, { kind: "SET_STATUS", to: "CANCELLED", reason }, meta),
    );
    if (cancelled.reservationState === "RELEASE_PENDING") {
      await settler.release(backgroundContext(deps.budgetMs, RECONCILER_ACTOR), cancelled, reason);
    }
  };

  const settle = async (order: Order): Promise<boolean> => {
    const cx = backgroundContext(deps.budgetMs, RECONCILER_ACTOR);
    try {
      if (order.reservationState === "RELEASE_PENDING") await settler.release(cx, order, "order cancelled");
      else await settler.commit(cx, order);
      return true;
    } catch (err) {
      if (order.reservationState === "PENDING" && isDomainError(err) && LOST.has(err.reason)) {
        logger.warn({ orderId: order.id, reason: err.reason }, "order lost its reservation; cancelling it");
        await cancelLost(order);
        return true;
      }
      logger.warn({ err, orderId: order.id }, "reservation not settled; will retry");
      return false;
    }
  };

  /** One pass; resolves to the number of orders settled. */
  return async function reconcile(): Promise<number> {
    let settled = 0;
    for (const order of await repo.unsettled(BATCH)) {
      if (await settle(order)) settled++;
    }
    return settled;
  };
}
