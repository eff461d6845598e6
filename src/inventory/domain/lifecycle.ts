/**
 * The reservation state machine and the stock movement of each transition.
 * Plans are pure: they name the next status (undefined: nothing to do) or
 * throw; the repository applies them under the reservation's row lock.
 */
import { reservationExpired, reservationReleased } from "./errors.js";
import { isDue, unreturned, type LineRequest, type Reservation, type ReservationLine, type ReservationStatus } from "./reservation.js";

/**
 * How a transition moves stock:
 * RELEASE_HOLD reserved -= q (a hold ends unsold);
 * SELL stock_on_hand -= q and reserved -= q (the units leave);
 * RESTOCK stock_on_hand += q (a cancelled sale, or a return of part of it, comes back).
 */
export type StockMove = "RELEASE_HOLD" | "SELL" | "RESTOCK";

export type TransitionPlan = (current: Reservation) => ReservationStatus | undefined;

/** PENDING → COMMITTED; a due one → EXPIRED (the caller then fails); COMMITTED → no-op. */
export function planCommit(now: Date): TransitionPlan {
  return (r) => {
    if (r.status === "COMMITTED") return undefined;
    if (r.status === "RELEASED") throw reservationReleased(r.id);
    if (r.status === "EXPIRED") throw reservationExpired(r.id);
    return isDue(r, now) ? "EXPIRED" : "COMMITTED";
  };
}

/** PENDING → RELEASED (a due one → EXPIRED); COMMITTED → RELEASED; otherwise a no-op. */
export function planRelease(now: Date): TransitionPlan {
  return (r) => {
    if (r.status === "COMMITTED") return "RELEASED";
    if (r.status !== "PENDING") return undefined;
    return isDue(r, now) ? "EXPIRED" : "RELEASED";
  };
}

/** The outcome of a commit attempt: the reservation when committed, the reason it is not otherwise. */
export function ensureCommitted(r: Reservation): Reservation {
  if (r.status === "COMMITTED") return r;
  if (r.status === "RELEASED") throw reservationReleased(r.id);
  if (r.status === "EXPIRED") throw reservationExpired(r.id);
  throw new Error(`reservation ${r.id} is still ${r.status} after a commit`);
}

export function stockMoveOf(from: ReservationStatus, to: ReservationStatus): StockMove {
  if (from === "PENDING" && to === "COMMITTED") return "SELL";
  if (from === "PENDING" && (to === "RELEASED" || to === "EXPIRED")) return "RELEASE_HOLD";
  if (from === "COMMITTED" && to === "RELEASED") return "RESTOCK";
  throw new Error(`no transition from ${from} to ${to}`);
}

/**
 * What a transition of one reservation moves, per product (ordered by id):
 * each line's units not returned (ReturnStock). Only a committed line has
 * returns, so a hold or its end moves the whole quantity, and the release of
 * a sale restocks only what did not come back already; lines returned in
 * full move nothing.
 */
export function transitionQuantities(lines: readonly ReservationLine[]): [productId: string, quantity: bigint][] {
  return quantitiesByProduct(lines.map((l) => ({ productId: l.productId, quantity: unreturned(l) })).filter((l) => l.quantity > 0));
}

/** Total quantity per product over many lines (e.g. a batch of expiring reservations), ordered by id. */
export function quantitiesByProduct(lines: readonly LineRequest[]): [productId: string, quantity: bigint][] {
  const sums = new Map<string, bigint>();
  for (const l of lines) sums.set(l.productId, (sums.get(l.productId) ?? 0n) + BigInt(l.quantity));
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
