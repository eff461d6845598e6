/**
 * The inventory's use cases over a fresh migrated database with a clock the
 * test moves, plus helpers to make products and read raw stock.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import pino from "pino";
import { createInventoryUseCases, type InventoryUseCases } from "../../../src/inventory/app/use-cases.js";
import { money } from "../../../src/inventory/domain/money.js";
import type { Product } from "../../../src/inventory/domain/product.js";
import { createInventoryEvents } from "../../../src/inventory/infra/inventory-events.js";
import { createProductRepository } from "../../../src/inventory/infra/product-repository.js";
import { createReservationRepository } from "../../../src/inventory/infra/reservation-repository.js";
import { products } from "../../../src/inventory/infra/schema.js";
import { backgroundContext, type CallContext } from "../../../src/kernel/call-context.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";

export interface InventoryFixture {
  readonly database: TestDatabase;
  readonly uc: InventoryUseCases;
  readonly clock: { now: Date; advance(ms: number): void };
  cx(): CallContext;
  /** A product with `stock` on hand and a unique SKU. */
  product(stock: bigint, priceMinor?: bigint): Promise<Product>;
  /** Grouped hold/sell statements that failed (their members then ran alone): a racing duplicate id, or a bug. */
  readonly groupErrors: unknown[];
  /** stock_on_hand and reserved as stored. */
  stockOf(id: string): Promise<{ stockOnHand: bigint; reserved: bigint }>;
}

export const TTL_MS = 60_000;

export async function createInventoryFixture(): Promise<InventoryFixture> {
  const database = await createTestDatabase();
  const clock = {
    now: new Date(),
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  // The service's default threshold (STOCK_LOW_THRESHOLD): the events these tests cause are written as in production.
  const events = createInventoryEvents(10);
  const groupErrors: unknown[] = [];
  const uc = createInventoryUseCases({
    products: createProductRepository(database.db, events),
    reservations: createReservationRepository(database.db, events, (err) => groupErrors.push(err)),
    now: () => clock.now,
    newId: randomUUID,
    log: pino({ level: "silent" }),
    defaultTtlMs: TTL_MS,
  });
  const cx = () => backgroundContext();
  return {
    database,
    groupErrors,
    uc,
    clock,
    cx,
    product: (stock, priceMinor = 1000n) =>
      uc.createProduct(cx(), { sku: `SKU-${randomUUID()}`, name: "Thing", description: "", unitPrice: money("USD", priceMinor), initialStock: stock }),
    async stockOf(id) {
      const [row] = await database.db
        .select({ stockOnHand: products.stockOnHand, reserved: products.reserved })
        .from(products)
        .where(eq(products.id, id));
      return row;
    },
  };
}
