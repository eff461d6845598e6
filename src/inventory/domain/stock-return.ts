/**
 * Returns: units of a committed (sold) reservation put back into stock, each
 * return once under a caller-given id (per reservation), never more of a
 * product than the reservation sold minus what already came back. Pure: the
 * repository applies the plan under the reservation's row lock, so returns of
 * one reservation are decided one after the other.
 */
import {
  reservationExpired,
  reservationNotCommitted,
  reservationReleased,
  returnExceedsSold,
  returnIdReused,
  type Overreturn,
} from "./errors.js";
import { asSeenAt, mergeLines, unreturned, type LineRequest, type Reservation, type ReservationLine } from "./reservation.js";

export interface ReturnInput {
  readonly reservationId: string;
  readonly returnId: string;
  readonly lines: readonly LineRequest[];
  readonly reason: string;
}

/** A ReturnStock call, normalised: lines merged per product and ordered by id. */
export interface ReturnRequest extends ReturnInput {
  /** Who asks (a principal label): reservations are per owner. */
  readonly owner: string;
  readonly now: Date;
}

/** What a return recorded: its idempotency record. */
export interface RecordedReturn {
  readonly lines: readonly LineRequest[];
  readonly reason: string;
}

export function newReturnRequest(owner: string, input: ReturnInput, now: Date): ReturnRequest {
  return { ...input, owner, lines: mergeLines(input.lines), now };
}

/**
 * A repeated return id: nothing to do when it is the same return (same
 * merged lines, same reason); INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED
 * otherwise.
 */
export function ensureSameReturn(recorded: RecordedReturn, request: ReturnRequest): void {
  const mine = mergeLines(recorded.lines);
  const theirs = mergeLines(request.lines);
  const sameLines = mine.length === theirs.length && mine.every((l, i) => l.productId === theirs[i].productId && l.quantity === theirs[i].quantity);
  if (!sameLines) throw returnIdReused(request.reservationId, request.returnId, "lines");
  if (recorded.reason !== request.reason) throw returnIdReused(request.reservationId, request.returnId, "reason");
}

/**
 * The reservation's lines after a new return, or why it cannot take it: a
 * pending reservation RESERVATION_NOT_COMMITTED, a released or expired one
 * (a pending one past its TTL included) RESERVATION_RELEASED /
 * RESERVATION_EXPIRED; a product it did not sell, or more than it sold minus
 * what was returned, RETURN_EXCEEDS_SOLD naming every such product.
 */
export function planReturn(current: Reservation, request: ReturnRequest): ReservationLine[] {
  const seen = asSeenAt(current, request.now);
  if (seen.status === "PENDING") throw reservationNotCommitted(current.id);
  if (seen.status === "RELEASED") throw reservationReleased(current.id);
  if (seen.status === "EXPIRED") throw reservationExpired(current.id);
  const byProduct = new Map(current.lines.map((l) => [l.productId.toLowerCase(), l]));
  const over: Overreturn[] = [];
  for (const { productId, quantity } of request.lines) {
    const line = byProduct.get(productId.toLowerCase());
    if (!line) {
      over.push({ productId, returning: quantity, sold: 0, returned: 0 });
    } else if (quantity > unreturned(line)) {
      over.push({ productId: line.productId, returning: quantity, sold: line.quantity, returned: line.returnedQuantity ?? 0 });
    }
  }
  if (over.length > 0) throw returnExceedsSold(current.id, request.returnId, over);
  const returning = new Map(request.lines.map((l) => [l.productId.toLowerCase(), l.quantity]));
  return current.lines.map((l) => {
    const q = returning.get(l.productId.toLowerCase());
    return q === undefined ? l : { ...l, returnedQuantity: (l.returnedQuantity ?? 0) + q };
  });
}
