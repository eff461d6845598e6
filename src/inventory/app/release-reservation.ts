import type { CallContext } from "../../kernel/call-context.js";
import { principalLabel } from "../../kernel/principal.js";
import { planRelease } from "../domain/lifecycle.js";
import type { Reservation } from "../domain/reservation.js";
import type { InventoryAppPorts } from "./ports.js";

/** Returns the stock exactly once, pending or committed; released or expired is a no-op. */
export interface ReleaseReservationInput {
  readonly reservationId: string;
  readonly reason: string;
}

export type ReleaseReservation = (cx: CallContext, input: ReleaseReservationInput) => Promise<Reservation>;

export function createReleaseReservation({ reservations, now, log }: Pick<InventoryAppPorts, "reservations" | "now" | "log">): ReleaseReservation {
  return async (cx, { reservationId: id, reason }) => {
    const at = now();
    const reservation = await reservations.transition(principalLabel(cx.principal), id, planRelease(at), at, cx);
    log.info({ reservationId: id, status: reservation.status, reason, actor: cx.actor }, "reservation released");
    return reservation;
  };
}
