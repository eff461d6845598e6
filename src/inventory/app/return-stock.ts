import type { CallContext } from "../../kernel/call-context.js";
import { principalLabel } from "../../kernel/principal.js";
import { asSeenAt, type Reservation } from "../domain/reservation.js";
import { newReturnRequest, type ReturnInput } from "../domain/stock-return.js";
import type { InventoryAppPorts } from "./ports.js";

/**
 * Puts units of a committed reservation back into stock, each return id
 * once; a repeat answers the reservation as it is now.
 */
export type ReturnStock = (cx: CallContext, input: ReturnInput) => Promise<Reservation>;

export function createReturnStock({ reservations, now, log }: Pick<InventoryAppPorts, "reservations" | "now" | "log">): ReturnStock {
  return async (cx, input) => {
    const request = newReturnRequest(principalLabel(cx.principal), input, now());
    const { reservation, returned } = await reservations.returnStock(request, cx);
    if (returned) {
      const units = request.lines.reduce((n, l) => n + l.quantity, 0);
      log.info({ reservationId: input.reservationId, returnId: input.returnId, units, reason: input.reason, actor: cx.actor }, "stock returned");
    }
    return asSeenAt(reservation, now());
  };
}
