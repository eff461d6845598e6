import type { CallContext } from "../../kernel/call-context.js";
import { principalLabel } from "../../kernel/principal.js";
import { reservationNotFound } from "../domain/errors.js";
import { asSeenAt, type Reservation } from "../domain/reservation.js";
import type { InventoryAppPorts } from "./ports.js";

export type GetReservation = (cx: CallContext, reservationId: string) => Promise<Reservation>;

export function createGetReservation({ reservations, now }: Pick<InventoryAppPorts, "reservations" | "now">): GetReservation {
  return async (cx, id) => {
    const reservation = await reservations.findById(principalLabel(cx.principal), id);
    if (!reservation) throw reservationNotFound(id);
    return asSeenAt(reservation, now());
  };
}
