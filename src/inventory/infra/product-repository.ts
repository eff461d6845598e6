/**
 * Products in Postgres through Drizzle. Catalog updates lock the row and
 * write only catalog columns; stock changes lock the row, let the domain
 * explain a refusal, then write with a guarded relative statement, and the
 * low- or replenished-stock event when the change crosses the threshold
 * (inventory-events.ts).
 */
import { and, eq, sql } from "drizzle-orm";
import { boundedTransaction } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import { productNotFound, skuTaken } from "../domain/errors.js";
import type { ProductRepository, StockChange } from "../domain/ports.js";
import { checkStockOnHand, type Product } from "../domain/product.js";
import { isUniqueViolation } from "../../platform/pg-errors.js";
import type { InventoryEvents, InventoryEventWriter } from "./inventory-events.js";
import { productFromRow, productToRow, type Tx } from "./rows.js";
import { products, SKU_UNIQUE_INDEX } from "./schema.js";
import { notBefore } from "./stock-statements.js";

/** The order of ListProducts, matching the unique index on sku. */
const SKU_ORDER = sql`${products.sku} collate "C"`;

export function createProductRepository(db: Db, events: InventoryEvents): ProductRepository {
  // GetProduct and ListProducts: built once (values are placeholders), prepared on the server; a
  // Drizzle select rebuilt per call cost more CPU than the rest of a GetProduct.
  const byId = db.select().from(products).where(eq(products.id, sql.placeholder("id"))).limit(1).prepare("inventory_find_product");
  const page = (after: boolean) =>
    db
      .select()
      .from(products)
      .where(after ? sql`${SKU_ORDER} > ${sql.placeholder("afterSku")}` : undefined)
      .orderBy(SKU_ORDER)
      .limit(sql.placeholder("limit"))
      .prepare(after ? "inventory_list_products_after" : "inventory_list_products");
  const firstPage = page(false);
  const laterPage = page(true);
  return {
    async insert(product) {
      const rows = await translate(product.sku, () => db.insert(products).values(productToRow(product)).returning());
      return productFromRow(rows[0]);
    },

    async insertIfAbsent(product) {
      const rows = await db.insert(products).values(productToRow(product)).onConflictDoNothing().returning();
      return rows.length > 0;
    },

    async findById(id) {
      const rows = await byId.execute({ id });
      return rows[0] && productFromRow(rows[0]);
    },

    async list({ afterSku, limit }) {
      const rows = afterSku === undefined ? await firstPage.execute({ limit }) : await laterPage.execute({ afterSku, limit });
      return rows.map(productFromRow);
    },

    update: (id, fn, cx) => boundedTransaction(db, cx, (tx) => updateCatalog(tx, id, fn), "inventory_update_product_tx"),

    changeStock: (id, change, now, cx) =>
      events.within((w) => boundedTransaction(db, cx, (tx) => changeStockIn(tx, id, change, now, w), "inventory_change_stock_tx")),
  };
}

async function lockProduct(tx: Tx, id: string, strength: "update" | "no key update"): Promise<Product> {
  const rows = await tx.select().from(products).where(eq(products.id, id)).for(strength);
  if (!rows[0]) throw productNotFound(id);
  return productFromRow(rows[0]);
}

async function updateCatalog(tx: Tx, id: string, fn: (p: Product) => Product): Promise<Product> {
  // FOR UPDATE, not NO KEY UPDATE: the SKU (a unique key) may change.
  const current = await lockProduct(tx, id, "update");
  const next = fn(current);
  if (next === current) return current;
  const catalog = {
    sku: next.sku,
    name: next.name,
    description: next.description,
    unitPriceMinor: next.unitPrice.amountMinor,
    currency: next.unitPrice.currency,
    updateTime: next.updateTime,
  };
  const rows = await translate(next.sku, () =>
    tx.update(products).set(catalog).where(eq(products.id, id)).returning(),
  );
  return productFromRow(rows[0]);
}

async function changeStockIn(tx: Tx, id: string, change: StockChange, now: Date, events: InventoryEventWriter): Promise<Product> {
  const current = await lockProduct(tx, id, "no key update");
  const target = "set" in change ? change.set : current.stockOnHand + change.add;
  checkStockOnHand(current, target);
  const value =
    "set" in change
      ? sql`${change.set.toString()}::bigint`
      : sql`${products.stockOnHand} + ${change.add.toString()}::bigint`;
  const rows = await tx
    .update(products)
    .set({ stockOnHand: value, updateTime: notBefore(now) })
    .where(and(eq(products.id, id), sql`${value} >= ${products.reserved}`))
    .returning();
  if (!rows[0]) throw new Error(`stock guard failed for product ${id}`);
  const after = productFromRow(rows[0]);
  await events.stockChanged(tx, { productId: id, sku: after.sku, stockOnHand: after.stockOnHand, reserved: after.reserved }, after.stockOnHand - current.stockOnHand, now);
  return after;
}

async function translate<T>(sku: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err, SKU_UNIQUE_INDEX)) throw skuTaken(sku);
    throw err;
  }
}
