import type { CallContext } from "../../kernel/call-context.js";
import { planRelease } from "../domain/lifecycle.js";
import type { Reservation } from "../domain/reservation.js";
import type { InventoryAppPorts } from "./ports.js";

/** Returns the stock exactly once, pending or committed; released or expired is a no-op. */
export type ReleaseReservation = (id: string, reason: string, cx: CallContext) => Promise<Reservation>;

export function createReleaseReservation({ reservations, now, log }: Pick<InventoryAppPorts, "reservations" | "now" | "log">): ReleaseReservation {
  return async (id, reason, cx) => {
    cx.signal.throwIfAborted();
    const at = now();
    const reservation = await reservations.transition(id, planRelease(at), at);
    log.info({ reservationId: id, status: reservation.status, reason, actor: cx.actor }, "reservation released");
    return reservation;
  };
}
