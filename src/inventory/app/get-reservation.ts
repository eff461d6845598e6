import type { CallContext } from "../../kernel/call-context.js";
import { reservationNotFound } from "../domain/errors.js";
import { asSeenAt, type Reservation } from "../domain/reservation.js";
import type { InventoryAppPorts } from "./ports.js";

export type GetReservation = (id: string, cx: CallContext) => Promise<Reservation>;

export function createGetReservation({ reservations, now }: Pick<InventoryAppPorts, "reservations" | "now">): GetReservation {
  return async (id, cx) => {
    cx.signal.throwIfAborted();
    const reservation = await reservations.findById(id);
    if (!reservation) throw reservationNotFound(id);
    return asSeenAt(reservation, now());
  };
}
