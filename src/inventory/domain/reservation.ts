/**
 * Reservations: stock held for one purpose, all or nothing, under a
 * caller-given id that is also the idempotency key of ReserveStock.
 */
import { idempotencyKeyReused } from "./errors.js";
import type { Money } from "./money.js";

export const RESERVATION_STATUSES = ["PENDING", "COMMITTED", "RELEASED", "EXPIRED"] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** One product and quantity to hold. */
export interface LineRequest {
  readonly productId: string;
  readonly quantity: number;
}

export interface ReservationLine extends LineRequest {
  /** The product's unit price when the reservation was made. */
  readonly unitPrice: Money;
  /**
   * Units of a committed line put back into stock by ReturnStock (0 to
   * quantity); absent when none were.
   */
  readonly returnedQuantity?: number;
}

/** Units of the line not returned: what a release of its committed sale still restocks. */
export const unreturned = (l: ReservationLine): number => l.quantity - (l.returnedQuantity ?? 0);

export interface Reservation {
  readonly id: string;
  readonly status: ReservationStatus;
  /** One per product, ordered by product id. */
  readonly lines: readonly ReservationLine[];
  readonly expireTime: Date;
  readonly createTime: Date;
  readonly updateTime: Date;
}

/** A ReserveStock call, normalised: lines merged per product and ordered by id. */
export interface ReservationRequest {
  /** Who makes it (a principal label): ids are per owner. */
  readonly owner: string;
  readonly id: string;
  readonly lines: readonly LineRequest[];
  readonly expireTime: Date;
  readonly now: Date;
}

export interface ReserveInput {
  readonly reservationId: string;
  readonly lines: readonly LineRequest[];
  /** Undefined: the configured default. */
  readonly ttlMs?: number;
}

export function newReservationRequest(owner: string, input: ReserveInput, now: Date, defaultTtlMs: number): ReservationRequest {
  const ttlMs = input.ttlMs ?? defaultTtlMs;
  return {
    owner,
    id: input.reservationId,
    lines: mergeLines(input.lines),
    expireTime: new Date(now.getTime() + ttlMs),
    now,
  };
}

/**
 * One line per product (ids lower-cased, quantities summed), ordered by
 * product id: the order in which stock rows are locked.
 */
export function mergeLines(lines: readonly LineRequest[]): LineRequest[] {
  const sums = new Map<string, number>();
  for (const { productId, quantity } of lines) {
    const id = productId.toLowerCase();
    sums.set(id, (sums.get(id) ?? 0) + quantity);
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

/** Whether the reservation holds exactly the (merged) requested lines. */
export function holdsSameLines(r: Pick<Reservation, "lines">, requested: readonly LineRequest[]): boolean {
  const mine = mergeLines(r.lines);
  const theirs = mergeLines(requested);
  return mine.length === theirs.length && mine.every((l, i) => l.productId === theirs[i].productId && l.quantity === theirs[i].quantity);
}

/**
 * A repeated ReserveStock: the existing reservation when the lines match,
 * INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED otherwise.
 */
export function repeatOf(existing: Reservation, request: ReservationRequest): Reservation {
  if (!holdsSameLines(existing, request.lines)) throw idempotencyKeyReused(request.id);
  return existing;
}

/** A pending reservation whose TTL has run out, swept or not. */
export function isDue(r: Pick<Reservation, "status" | "expireTime">, now: Date): boolean {
  return r.status === "PENDING" && r.expireTime.getTime() <= now.getTime();
}

/**
 * The reservation as a caller should see it at `now`: a pending one past its
 * TTL is expired (nothing can commit it any more) even before the sweeper
 * has returned its stock.
 */
export function asSeenAt(r: Reservation, now: Date): Reservation {
  return isDue(r, now) ? { ...r, status: "EXPIRED" } : r;
}
