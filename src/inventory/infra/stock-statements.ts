/**
 * Every stock change is one guarded UPDATE per product, issued in product-id
 * order so that concurrent transactions lock rows in the same order and
 * cannot deadlock. A guard that does not hold means the caller's locked read
 * and the database disagree: a bug, so it throws and the transaction rolls back.
 * After each update, a change of available stock that crosses the low-stock
 * threshold writes its event (inventory-events.ts) under the same row lock.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { StockMove } from "../domain/lifecycle.js";
import { stockOutOfRange } from "../domain/errors.js";
import { MAX_STOCK } from "../domain/product.js";
import type { StockAfter } from "../rpc/inventory-events.js";
import type { InventoryEventWriter } from "./inventory-events.js";
import type { Tx } from "./rows.js";
import { products } from "./schema.js";

const big = (n: bigint) => sql`${n.toString()}::bigint`;

/** update_time moves to `now` but never backwards. */
export const notBefore = (now: Date) => sql`greatest(${products.updateTime}, ${now.toISOString()}::timestamptz)`;

/** Applies `move` for each (product, quantity), in product-id order. */
export async function moveStock(
  tx: Tx,
  move: StockMove,
  quantities: readonly [productId: string, quantity: bigint][],
  now: Date,
  events: InventoryEventWriter,
): Promise<void> {
  const ordered = [...quantities].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [productId, quantity] of ordered) {
    const q = big(quantity);
    if (move === "RELEASE_HOLD") {
      const after = await guarded(tx, productId, { reserved: sql`${products.reserved} - ${q}` }, now, sql`${products.reserved} >= ${q}`);
      await events.stockChanged(tx, after, quantity, now);
    } else if (move === "SELL") {
      // Available stock does not change: the sold units were already held.
      const set = { stockOnHand: sql`${products.stockOnHand} - ${q}`, reserved: sql`${products.reserved} - ${q}` };
      await guarded(tx, productId, set, now, sql`${products.reserved} >= ${q}`);
    } else {
      // Stock returned after a sale (a release of a committed reservation) must still fit an int64.
      const fits = sql`${products.stockOnHand} <= ${big(MAX_STOCK - quantity)}`;
      const after = await guarded(tx, productId, { stockOnHand: sql`${products.stockOnHand} + ${q}` }, now, fits, () => stockOutOfRange(productId));
      await events.stockChanged(tx, after, quantity, now);
    }
  }
}

/** An update that must match, returning the stock after it; otherwise `refused()` (by default: a bug, the caller's locked read disagrees). */
async function guarded(
  tx: Tx,
  productId: string,
  set: { stockOnHand?: SQL; reserved?: SQL },
  now: Date,
  guard: SQL,
  refused: () => Error = () => new Error(`stock guard failed for product ${productId}`),
): Promise<StockAfter> {
  const rows = await tx
    .update(products)
    .set({ ...set, updateTime: notBefore(now) })
    .where(and(eq(products.id, productId), guard))
    .returning({ productId: products.id, sku: products.sku, stockOnHand: products.stockOnHand, reserved: products.reserved });
  if (!rows[0]) throw refused();
  return rows[0];
}
