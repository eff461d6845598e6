import type { CallContext } from "../../kernel/call-context.js";
import { principalLabel } from "../../kernel/principal.js";
import { ensureCommitted, planCommit } from "../domain/lifecycle.js";
import type { Reservation } from "../domain/reservation.js";
import type { InventoryAppPorts } from "./ports.js";

/**
 * Sells the held units. A live pending reservation (the usual case) commits
 * in one guarded statement; any other goes through planCommit under lock: a
 * pending one found past its TTL is expired in that transaction (its stock
 * returns) and the call fails RESERVATION_EXPIRED.
 */
export type CommitReservation = (cx: CallContext, reservationId: string) => Promise<Reservation>;

export function createCommitReservation({ reservations, now, log }: Pick<InventoryAppPorts, "reservations" | "now" | "log">): CommitReservation {
  return async (cx, id) => {
    const at = now();
    const owner = principalLabel(cx.principal);
    const reservation =
      (await reservations.commitPending(owner, id, at)) ?? (await reservations.transition(owner, id, planCommit(at), at, cx));
    if (reservation.status === "EXPIRED") log.info({ reservationId: id }, "reservation expired at commit");
    return ensureCommitted(reservation);
  };
}
