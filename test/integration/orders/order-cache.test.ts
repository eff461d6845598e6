/**
 * GetOrder's read cache against a real database: a "reader" orders module
 * with the cache and the change listener on its own database handle, and
 * the harness's module (another handle on the same database on Postgres,
 * i.e. another process as far as Postgres can tell) as the "writer".
 * A change made behind every cache's back (SQL without a version bump, so
 * no notification) shows whether a read came from memory.
 */
import { asPermitted, ORDERS, withPrincipal } from "../../support/auth.js";
import { randomBytes } from "node:crypto";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OrderService, OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import type { OrdersModule } from "../../../src/orders/module.js";
import { createDatabase, rowsOf, type Database } from "../../../src/platform/db.js";
import { onRealPostgres, type TestDatabase } from "../../support/db.js";
import { startTestStack, type TestStack } from "../../support/servers.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

/** Two handles on one fresh database (Postgres), or one PGlite handle twice. */
async function createTwinDatabases(): Promise<{ a: TestDatabase; b: Database; dispose(): Promise<void> }> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const db = await createDatabase({});
    await db.migrate();
    return { a: { ...db, dispose: async () => {} }, b: db, dispose: () => db.close() };
  }
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const a = await createDatabase({ url: url.toString(), poolMax: 10 });
  const b = await createDatabase({ url: url.toString(), poolMax: 10 });
  await a.migrate();
  return {
    a: { ...a, dispose: async () => {} },
    b,
    dispose: async () => {
      await Promise.all([a.close(), b.close()]);
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

let twins: Awaited<ReturnType<typeof createTwinDatabases>>;
let h: OrdersHarness;
let readerStack: TestStack;
let reader: OrdersModule;
let r: Client<typeof OrderService>;

beforeAll(async () => {
  twins = await createTwinDatabases();
  h = await createOrdersHarness({ database: twins.a });
  // The reader: an app hosting only orders, on the other handle, reaching the writer's inventory and customers.
  readerStack = await startTestStack({
    database: { ...twins.b, dispose: async () => {} },
    config: {
      services: ["orders"],
      orderCacheSize: 100,
      deadlineMarginMs: 150,
      reconcileIntervalMs: 3_600_000,
      watchPollMs: 3_600_000, // only a change notification can wake a watcher
    },
    dependencyTransport: () => withPrincipal(h.stack.transport, ORDERS),
  });
  reader = readerStack.app.modules.orders!;
  r = createClient(OrderService, asPermitted(readerStack.transport));
  await vi.waitFor(() => expect(reader.orderCache.enabled).toBe(true), { timeout: 10_000 });
});

afterAll(async () => {
  await readerStack?.close();
  await h?.close();
  await twins?.dispose();
});

async function placeOrder() {
  const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
  return (await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
}

/** Changes what GetOrder shows without a version bump: no notification, no eviction. */
const sneak = (id: string, tracking: string) =>
  twins.a.db.execute(sql`update orders.orders set carrier = 'SNEAK', tracking_number = ${tracking} where id = ${id}::uuid`);

describe("GetOrder read cache", () => {
  it("answers repeated reads from memory with the same order", async () => {
    const { id } = await placeOrder();
    const first = (await r.getOrder({ orderId: id })).order!;
    await sneak(id, "1");
    const second = (await r.getOrder({ orderId: id })).order!;
    expect(second).toEqual(first);
    expect(second.shippingInfo).toBeUndefined();
    expect(reader.orderCache.size).toBeGreaterThan(0);
  });

  it("a change committed through another handle evicts the order there", async () => {
    const { id } = await placeOrder();
    await r.getOrder({ orderId: id });
    const updated = (await h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING })).order!;
    await vi.waitFor(async () => expect((await r.getOrder({ orderId: id })).order!.etag).toBe(updated.etag), {
      timeout: 10_000,
    });
    expect((await r.getOrder({ orderId: id })).order!.status).toBe(OrderStatus.PROCESSING);
  });

  it("a deletion through another handle turns GetOrder NOT_FOUND there", async () => {
    const { id } = await placeOrder();
    await r.getOrder({ orderId: id });
    await h.orders.deleteOrder({ orderId: id });
    await vi.waitFor(() => expectFailure(r.getOrder({ orderId: id }), Code.NotFound, "ORDER_NOT_FOUND"), {
      timeout: 10_000,
    });
    await expectFailure(r.getOrder({ orderId: id }), Code.NotFound, "ORDER_NOT_FOUND");
  });

  it("reads its own writes at once, and a deleted order stays NOT_FOUND", async () => {
    const { id } = await placeOrder();
    await r.getOrder({ orderId: id });
    const updated = (await r.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING })).order!;
    expect((await r.getOrder({ orderId: id })).order!.etag).toBe(updated.etag);
    const shipped = (await r.updateShippingInfo({ orderId: id, shippingInfo: { carrier: "UPS", trackingNumber: "1Z" } }))
      .order!;
    expect((await r.getOrder({ orderId: id })).order).toEqual(shipped);
    await r.deleteOrder({ orderId: id });
    await expectFailure(r.getOrder({ orderId: id }), Code.NotFound, "ORDER_NOT_FOUND");
    await expectFailure(r.getOrder({ orderId: id }), Code.NotFound, "ORDER_NOT_FOUND");
  });

  it("an upper-case id is the same cache entry, evicted by the same change", async () => {
    const { id } = await placeOrder();
    await r.getOrder({ orderId: id.toUpperCase() });
    const updated = (await r.cancelOrder({ orderId: id })).order!;
    expect((await r.getOrder({ orderId: id.toUpperCase() })).order!.etag).toBe(updated.etag);
  });

  it("WatchOrder wakes on another handle's change (its poll is an hour)", async () => {
    const { id } = await placeOrder();
    const seen: OrderStatus[] = [];
    for await (const res of r.watchOrder({ orderId: id })) {
      seen.push(res.order!.status);
      if (seen.length === 1) await h.orders.cancelOrder({ orderId: id });
    }
    expect(seen).toEqual([OrderStatus.CONFIRMED, OrderStatus.CANCELLED]);
  });
});

describe.skipIf(!onRealPostgres)("listener connection loss", () => {
  const terminateListener = async () => {
    const rows = rowsOf<{ n: number }>(
      await twins.a.db.execute(sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where application_name = 'listen:orders_changed' and datname = current_database()`),
    );
    expect(rows[0].n).toBe(2); // the reader's and the writer's: both apps listen

  };

  it("clears the cache on reconnect, then caches again", async () => {
    const { id } = await placeOrder();
    await r.getOrder({ orderId: id });
    await sneak(id, "before-loss");
    expect((await r.getOrder({ orderId: id })).order!.shippingInfo).toBeUndefined(); // from memory
    await terminateListener();
    // Lost (cache off) and re-established (cache cleared): either way the database answers.
    await vi.waitFor(async () => expect((await r.getOrder({ orderId: id })).order!.shippingInfo?.trackingNumber).toBe("before-loss"), {
      timeout: 10_000,
    });
    await vi.waitFor(() => expect(reader.orderCache.enabled).toBe(true), { timeout: 10_000 });
    // Listening again: remote changes evict again.
    const updated = (await h.orders.cancelOrder({ orderId: id })).order!;
    await vi.waitFor(async () => expect((await r.getOrder({ orderId: id })).order!.etag).toBe(updated.etag), {
      timeout: 10_000,
    });
  });

  it("reports the loss and the new listen to its caller", async () => {
    const events: string[] = [];
    const got: string[] = [];
    const listener = twins.b.listen!("orders_test_channel", (p) => got.push(p), {
      onListen: () => events.push("listen"),
      onLost: () => events.push("lost"),
    });
    try {
      await vi.waitFor(() => expect(events).toEqual(["listen"]), { timeout: 10_000 });
      const rows = rowsOf<{ n: number }>(
        await twins.a.db.execute(sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where application_name = 'listen:orders_test_channel' and datname = current_database()`),
      );
      expect(rows[0].n).toBe(1);
      await vi.waitFor(() => expect(events).toEqual(["listen", "lost", "listen"]), { timeout: 10_000 });
      await twins.a.db.execute(sql`select pg_notify('orders_test_channel', 'after')`);
      await vi.waitFor(() => expect(got).toEqual(["after"]), { timeout: 10_000 });
    } finally {
      await listener.close();
    }
  });
});
