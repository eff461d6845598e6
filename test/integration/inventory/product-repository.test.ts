/**
 * Products against a migrated database: SKU uniqueness, keyset order,
 * guarded stock changes, and the CHECK constraints behind them.
 */
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { money } from "../../../src/inventory/domain/money.js";
import { newProduct } from "../../../src/inventory/domain/product.js";
import { createInventoryEvents } from "../../../src/inventory/infra/inventory-events.js";
import { createProductRepository } from "../../../src/inventory/infra/product-repository.js";
import { products } from "../../../src/inventory/infra/schema.js";
import { DomainError } from "../../../src/kernel/errors.js";
import { domainFailure } from "../../support/rpc-errors.js";
import { createInventoryFixture, type InventoryFixture } from "./fixture.js";

let f: InventoryFixture;
beforeAll(async () => {
  f = await createInventoryFixture();
});
afterAll(() => f?.database.dispose());

const input = (sku: string, stock = 5n) => ({
  sku,
  name: "Mug",
  description: "blue",
  unitPrice: money("EUR", 1999n),
  initialStock: stock,
});

describe("product repository", () => {
  it("stores and reads back a product exactly, bigint money included", async () => {
    const repo = createProductRepository(f.database.db, createInventoryEvents(10));
    const p = newProduct(randomUUID(), { ...input("EXACT-1"), unitPrice: money("USD", 9_007_199_254_740_993n) }, new Date());
    expect(await repo.insert(p)).toEqual(p);
    expect(await repo.findById(p.id)).toEqual(p);
    expect(await repo.findById(randomUUID())).toBeUndefined();
  });

  it("a taken SKU fails ALREADY_EXISTS SKU_TAKEN, on create and on update", async () => {
    await f.uc.createProduct(f.cx(), input("DUP-1"));
    const created = await domainFailure(f.uc.createProduct(f.cx(), input("DUP-1")));
    expect([created.kind, created.reason]).toEqual(["ALREADY_EXISTS", "SKU_TAKEN"]);
    const other = await f.uc.createProduct(f.cx(), input("DUP-2"));
    const updated = await domainFailure(f.uc.updateProduct(f.cx(), { productId: other.id, patch: { sku: "DUP-1" } }));
    expect(updated.reason).toBe("SKU_TAKEN");
    expect((await f.uc.getProduct(f.cx(), other.id)).sku).toBe("DUP-2");
  });

  it("other unique violations (same id) are not disguised as SKU_TAKEN", async () => {
    const repo = createProductRepository(f.database.db, createInventoryEvents(10));
    const p = await repo.insert(newProduct(randomUUID(), input("ID-CLASH-1"), new Date()));
    const err = await repo.insert({ ...p, sku: "ID-CLASH-2" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DomainError);
  });

  it("insertIfAbsent is idempotent on id and on SKU", async () => {
    const repo = createProductRepository(f.database.db, createInventoryEvents(10));
    const p = newProduct(randomUUID(), input("SEED-1"), new Date());
    expect(await repo.insertIfAbsent(p)).toBe(true);
    expect(await repo.insertIfAbsent(p)).toBe(false);
    expect(await repo.insertIfAbsent({ ...p, id: randomUUID() })).toBe(false);
  });

  it("update changes only the set fields and never touches stock", async () => {
    const p = await f.uc.createProduct(f.cx(), input("UPD-1", 9n));
    await f.uc.reserveStock(f.cx(), { reservationId: `upd-${p.id}`, lines: [{ productId: p.id, quantity: 4 }] });
    f.clock.advance(1000);
    const next = await f.uc.updateProduct(f.cx(), { productId: p.id, patch: { description: "red" } });
    expect(next).toEqual({ ...p, description: "red", reserved: 4n, updateTime: f.clock.now });
    const missing = await domainFailure(f.uc.updateProduct(f.cx(), { productId: randomUUID(), patch: { name: "x" } }));
    expect(missing.reason).toBe("PRODUCT_NOT_FOUND");
  });

  it("lists by SKU with keyset pages", async () => {
    const repo = createProductRepository(f.database.db, createInventoryEvents(10));
    for (const sku of ["LST-C", "LST-A", "LST-B"]) await repo.insert(newProduct(randomUUID(), input(sku), new Date()));
    const page = await repo.list({ afterSku: "LST-A", limit: 2 });
    expect(page.map((p) => p.sku)).toEqual(["LST-B", "LST-C"]);
    const all = await repo.list({ limit: 1000 });
    expect(all.map((p) => p.sku)).toEqual([...all.map((p) => p.sku)].sort());
  });

  it("orders SKUs by bytes, whatever the database's collation", async () => {
    const repo = createProductRepository(f.database.db, createInventoryEvents(10));
    for (const sku of ["ORD_a", "ORD-b", "ORD-B", "ORD-a", "ORD0"]) await repo.insert(newProduct(randomUUID(), input(sku), new Date()));
    const skus = (await repo.list({ afterSku: "ORC", limit: 5 })).map((p) => p.sku);
    expect(skus).toEqual(["ORD-B", "ORD-a", "ORD-b", "ORD0", "ORD_a"]);
  });

  it("SetStock and AdjustStock refuse to go below reserved, with the numbers, and change nothing", async () => {
    const p = await f.product(10n);
    await f.uc.reserveStock(f.cx(), { reservationId: `stk-${p.id}`, lines: [{ productId: p.id, quantity: 6 }] });
    const set = await domainFailure(f.uc.setStock(f.cx(), { productId: p.id, stockOnHand: 5n }));
    expect([set.kind, set.reason]).toEqual(["FAILED_PRECONDITION", "STOCK_BELOW_RESERVED"]);
    expect(set.options.metadata).toMatchObject({ productId: p.id, stockOnHand: "5", reserved: "6" });
    const adj = await domainFailure(f.uc.adjustStock(f.cx(), { productId: p.id, delta: -5n, reason: "breakage" }));
    expect(adj.options.metadata).toMatchObject({ stockOnHand: "5", reserved: "6" });
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 6n });
    expect((await f.uc.setStock(f.cx(), { productId: p.id, stockOnHand: 6n })).stockOnHand).toBe(6n);
    expect((await f.uc.adjustStock(f.cx(), { productId: p.id, delta: 14n, reason: "delivery" })).stockOnHand).toBe(20n);
    expect((await f.uc.adjustStock(f.cx(), { productId: p.id, delta: -14n, reason: "breakage" })).stockOnHand).toBe(6n);
    expect((await domainFailure(f.uc.setStock(f.cx(), { productId: randomUUID(), stockOnHand: 1n }))).reason).toBe("PRODUCT_NOT_FOUND");
  });

  it("the CHECK constraints refuse reserved above stock on hand or below zero", async () => {
    const p = await f.product(3n);
    const write = (set: Partial<Record<"reserved" | "stockOnHand", ReturnType<typeof sql>>>) =>
      f.database.db.update(products).set(set).where(eq(products.id, p.id));
    await expect(write({ reserved: sql`${products.stockOnHand} + 1` })).rejects.toThrow();
    await expect(write({ reserved: sql`-1` })).rejects.toThrow();
    await expect(write({ stockOnHand: sql`-1` })).rejects.toThrow();
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 3n, reserved: 0n });
  });
});
