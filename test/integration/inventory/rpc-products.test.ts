/** The catalog RPCs through the real Connect router: codes, reasons, field names, paging. */
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PRODUCTS } from "../../../src/inventory/module.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";
import { createInventoryRpc, wireError, type InventoryClient } from "./rpc-client.js";

let database: TestDatabase;
let closeRpc: (() => Promise<void>) | undefined;
let client: InventoryClient;
let seedDemo: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  const rpc = await createInventoryRpc(database);
  closeRpc = rpc.close;
  client = rpc.client;
  seedDemo = rpc.module.seedDemo;
});
afterAll(async () => {
  await closeRpc?.();
  await database?.dispose();
});

const usd = (amountMinor: bigint) => ({ currencyCode: "USD", amountMinor });
const createReq = (sku: string, initialStock = 10n) => ({ sku, name: "Mug", description: "blue", unitPrice: usd(1200n), initialStock });

describe("catalog RPCs", () => {
  it("CreateProduct returns the product with its stock; GetProduct reads it back", async () => {
    const { product } = await client.createProduct(createReq("RPC-MUG-1", 7n));
    expect(product).toMatchObject({ sku: "RPC-MUG-1", stockOnHand: 7n, reserved: 0n, available: 7n });
    expect(product?.unitPrice).toMatchObject(usd(1200n));
    expect(product?.createTime).toBeDefined();
    const got = await client.getProduct({ productId: product!.id });
    expect(got.product).toEqual(product);
  });

  it("bad input fails INVALID_ARGUMENT naming each bad field", async () => {
    const e = await wireError(client.createProduct({ sku: "no spaces", name: "", unitPrice: usd(-1n), initialStock: -1n }));
    expect([e.code, e.reason]).toEqual([Code.InvalidArgument, "INVALID_REQUEST"]);
    expect(e.fields).toEqual(expect.arrayContaining(["sku", "name", "initial_stock"]));
    const missing = await wireError(client.createProduct({ sku: "X-1", name: "x", initialStock: 1n }));
    expect(missing.fields).toContain("unit_price");
    const badId = await wireError(client.getProduct({ productId: "not-a-uuid" }));
    expect([badId.code, badId.fields]).toEqual([Code.InvalidArgument, ["product_id"]]);
  });

  it("a taken SKU fails ALREADY_EXISTS SKU_TAKEN; an unknown product NOT_FOUND PRODUCT_NOT_FOUND", async () => {
    await client.createProduct(createReq("RPC-DUP"));
    const dup = await wireError(client.createProduct(createReq("RPC-DUP")));
    expect([dup.code, dup.reason, dup.metadata.sku]).toEqual([Code.AlreadyExists, "SKU_TAKEN", "RPC-DUP"]);
    const id = randomUUID();
    const missing = await wireError(client.getProduct({ productId: id }));
    expect([missing.code, missing.reason, missing.metadata.productId]).toEqual([Code.NotFound, "PRODUCT_NOT_FOUND", id]);
  });

  it("UpdateProduct changes only the fields set, an empty string included", async () => {
    const { product } = await client.createProduct(createReq("RPC-UPD"));
    const { product: renamed } = await client.updateProduct({ productId: product!.id, name: "Cup" });
    expect(renamed).toMatchObject({ name: "Cup", description: "blue", sku: "RPC-UPD", unitPrice: usd(1200n) });
    const { product: cleared } = await client.updateProduct({
      productId: product!.id,
      description: "",
      unitPrice: { currencyCode: "EUR", amountMinor: 5n },
    });
    expect(cleared).toMatchObject({ name: "Cup", description: "", unitPrice: { currencyCode: "EUR", amountMinor: 5n } });
  });

  it("SetStock and AdjustStock guard reserved stock with a PreconditionFailure", async () => {
    const { product } = await client.createProduct(createReq("RPC-STOCK", 10n));
    const productId = product!.id;
    await client.reserveStock({ reservationId: "rpc-stock-hold", lines: [{ productId, quantity: 4 }] });
    const e = await wireError(client.setStock({ productId, stockOnHand: 3n }));
    expect([e.code, e.reason]).toEqual([Code.FailedPrecondition, "STOCK_BELOW_RESERVED"]);
    expect(e.violations).toEqual([
      { type: "STOCK_BELOW_RESERVED", subject: `products/${productId}`, description: "stock on hand would be 3, 4 units are reserved" },
    ]);
    expect((await client.adjustStock({ productId, delta: -6n, reason: "breakage" })).product).toMatchObject({
      stockOnHand: 4n, reserved: 4n, available: 0n,
    });
    expect((await wireError(client.adjustStock({ productId, delta: 0n }))).fields).toEqual(["delta"]);
    expect((await client.setStock({ productId, stockOnHand: 50n })).product?.available).toBe(46n);
  });

  it("ListProducts pages through every product in SKU order", async () => {
    for (const sku of ["PG-C", "PG-A", "PG-E", "PG-B", "PG-D"]) await client.createProduct(createReq(sku));
    const skus: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await client.listProducts({ pageSize: 2, pageToken });
      expect(res.products.length).toBeLessThanOrEqual(2);
      skus.push(...res.products.map((p) => p.sku));
      pageToken = res.nextPageToken;
      pages++;
    } while (pageToken !== "");
    expect(skus).toEqual([...skus].sort());
    expect(skus.filter((s) => s.startsWith("PG-"))).toEqual(["PG-A", "PG-B", "PG-C", "PG-D", "PG-E"]);
    expect(pages).toBe(Math.ceil(skus.length / 2));
    const bad = await wireError(client.listProducts({ pageToken: "garbage" }));
    expect([bad.code, bad.reason, bad.fields]).toEqual([Code.InvalidArgument, "INVALID_PAGE_TOKEN", ["page_token"]]);
  });

  it("seedDemo inserts the fixed demo products once", async () => {
    await seedDemo();
    await seedDemo();
    for (const demo of DEMO_PRODUCTS) {
      const { product } = await client.getProduct({ productId: demo.id });
      expect(product).toMatchObject({ sku: demo.sku, stockOnHand: demo.initialStock, unitPrice: { currencyCode: "USD" } });
    }
    const { products } = await client.listProducts({ pageSize: 500 });
    expect(products.filter((p) => p.id.startsWith("aaaaaaaa-0000-4000-8000-"))).toHaveLength(4);
  });
});
