/**
 * The hold rule: all lines or none, and a line can be held when its product
 * exists and has at least the requested quantity available. planHold is the
 * rule's statement and the source of the errors. The repository's hold
 * statement (infra/reservation-statements.ts) applies the same rule in SQL,
 * because it must decide under its row locks, atomically; when it refuses,
 * it reports the stock it read under lock and refusedHold explains the
 * refusal with planHold. A test (test/integration/inventory/hold-rule.test.ts)
 * checks on random stock that the statement and planHold agree.
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

/**
 * Why a hold the statement refused cannot be made: planHold over the stock
 * it read under lock throws NOT_FOUND PRODUCT_NOT_FOUND or FAILED_PRECONDITION
 * INSUFFICIENT_STOCK. Were planHold to accept those lines, the statement and
 * the rule would disagree: a bug, thrown as such.
 */
export function refusedHold(reservationId: string, lines: readonly LineRequest[], levels: readonly StockLevel[]): never {
  planHold(reservationId, lines, levels);
  throw new Error(`reservation ${reservationId}: the hold statement refused lines planHold accepts`);
}
