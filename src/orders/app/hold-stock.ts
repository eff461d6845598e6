/**
 * Holding an order's stock under its deterministic reservation ids
 * (reservationIdFor): CreateOrder starts at attempt 0, the settler holds a
 * PENDING order's stock again from the attempt after a lost one. Racing
 * duplicates walk the same sequence, so they converge on one reservation.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { aborted } from "../../kernel/errors.js";
import { reservationIdFor } from "../domain/new-order.js";
import type { InventoryPort, InventoryReservation } from "../domain/ports.js";

/** Reservation ids tried per order before giving up. */
export const MAX_RESERVATION_ATTEMPTS = 5;

export const reservationRetriesExhausted = (orderId: string) =>
  aborted("RESERVATION_RETRIES_EXHAUSTED", `could not hold stock for order ${orderId}; retry later`, { orderId });

/**
 * The first live (PENDING or COMMITTED) reservation from `firstAttempt` on;
 * one found released or expired (an earlier attempt's, its stock already
 * back) is skipped for the next id. Inventory's errors (INSUFFICIENT_STOCK...)
 * pass through.
 */
export async function holdStock(
  inventory: InventoryPort,
  cx: CallContext,
  orderId: string,
  lines: readonly { productId: string; quantity: number }[],
  firstAttempt = 0,
): Promise<InventoryReservation> {
  for (let attempt = firstAttempt; attempt < MAX_RESERVATION_ATTEMPTS; attempt++) {
    const r = await inventory.reserve(cx, reservationIdFor(orderId, attempt), lines);
    if (r.status === "PENDING" || r.status === "COMMITTED") return r;
  }
  throw reservationRetriesExhausted(orderId);
}
