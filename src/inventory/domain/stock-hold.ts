/**
 * Deciding a hold from the locked stock rows: all lines or none. The write
 * itself is a guarded statement in the repository; this only explains why
 * a hold cannot be made.
 */
import { insufficientStock, productsNotFound, type Shortage } from "./errors.js";
import type { Money } from "./money.js";
import { available } from "./product.js";
import type { LineRequest, ReservationLine } from "./reservation.js";

/** A product's stock and price as read under lock. */
export interface StockLevel {
  readonly id: string;
  readonly stockOnHand: bigint;
  readonly reserved: bigint;
  readonly unitPrice: Money;
}

/**
 * The priced lines to hold. NOT_FOUND PRODUCT_NOT_FOUND naming every unknown
 * product; otherwise FAILED_PRECONDITION INSUFFICIENT_STOCK with one
 * violation per short product.
 */
export function planHold(
  reservationId: string,
  lines: readonly LineRequest[],
  levels: readonly StockLevel[],
): ReservationLine[] {
  const byId = new Map(levels.map((l) => [l.id.toLowerCase(), l]));
  const missing = lines.filter((l) => !byId.has(l.productId.toLowerCase())).map((l) => l.productId);
  if (missing.length > 0) throw productsNotFound(missing);
  const shortages: Shortage[] = [];
  const priced = lines.map((line) => {
    const level = byId.get(line.productId.toLowerCase()) as StockLevel;
    const requested = BigInt(line.quantity);
    if (available(level) < requested) {
      shortages.push({ productId: level.id, requested, available: available(level) });
    }
    return { productId: level.id, quantity: line.quantity, unitPrice: level.unitPrice };
  });
  if (shortages.length > 0) throw insufficientStock(reservationId, shortages);
  return priced;
}
