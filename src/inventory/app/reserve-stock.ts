import type { CallContext } from "../../kernel/call-context.js";
import { principalLabel } from "../../kernel/principal.js";
import { asSeenAt, newReservationRequest, type Reservation, type ReserveInput } from "../domain/reservation.js";
import type { InventoryAppPorts } from "./ports.js";

/** Holds stock for every line or none; a repeat with the same id returns the first outcome. */
export type ReserveStock = (cx: CallContext, input: ReserveInput) => Promise<Reservation>;

export function createReserveStock({ reservations, now, log, defaultTtlMs }: InventoryAppPorts): ReserveStock {
  return async (cx, input) => {
    const request = newReservationRequest(principalLabel(cx.principal), input, now(), defaultTtlMs);
    const { reservation, created } = await reservations.reserve(request, cx);
    if (created) log.info({ reservationId: reservation.id, lines: reservation.lines.length }, "stock reserved");
    return asSeenAt(reservation, now());
  };
}
