/**
 * WatchOrder's fan-out: watchers of one order share one read per change,
 * nothing reads while the change listener is up and nothing changes, and a
 * change made while the listener is down still reaches the watchers — by the
 * fallback poll, or by the re-read of every watched order on reconnect. The
 * reads are counted through a wrapped repository; the listener is broken for
 * real on Postgres (its backend terminated, reconnects refused for a while).
 */
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { postgresConnection, rowsOf } from "../../../src/platform/db.js";
import { onRealPostgres } from "../../support/db.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { createReadCounter, startWatch, untilNoWatches, untilSeen, type ReadCounter } from "./watch-support.js";

const POLL_MS = 100;

async function placeOrder(h: OrdersHarness) {
  const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
  return (await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
}

async function startHarness(pollMs: number): Promise<{ h: OrdersHarness; reads: ReadCounter }> {
  const reads = createReadCounter();
  const h = await createOrdersHarness({
    wrapOrderRepository: reads.wrap,
    config: { watchPollMs: pollMs, watchMaxPerPrincipal: 1000 },
  });
  await vi.waitFor(() => expect(h.module.watches.stats().healthy).toBe(true), { timeout: 15_000 });
  return { h, reads };
}

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("WatchOrder fan-out", () => {
  let h: OrdersHarness;
  let reads: ReadCounter;
  beforeAll(async () => {
    ({ h, reads } = await startHarness(POLL_MS));
  });
  afterAll(() => h?.close());

  it("N watchers of one order get every change from one read per change, and nothing reads while idle", async () => {
    const N = 40;
    const order = await placeOrder(h);
    const id = order.id;
    const before = reads.of(id);
    const watches = Array.from({ length: N }, () => startWatch(h.orders, id));
    await untilSeen(watches, 1);
    expect(reads.of(id) - before).toBe(1);

    // Changes by calls that do not read the order through the repository themselves
    // (UpdateOrderStatus does), so that every counted read is a watch's.
    const changes = ["1Z1", "1Z2", "1Z3"].map(
      (trackingNumber) => () => h.orders.updateShippingInfo({ orderId: id, shippingInfo: { carrier: "UPS", trackingNumber } }),
    );
    for (const [k, change] of changes.entries()) {
      await change();
      await untilSeen(watches, k + 2);
    }
    // An idle stretch of many poll intervals: no read at all while the listener is up.
    await idle(10 * POLL_MS);
    expect(reads.of(id) - before).toBe(1 + changes.length);

    for (const w of watches) expect(w.seen.map((o) => o.shippingInfo?.trackingNumber)).toEqual([undefined, "1Z1", "1Z2", "1Z3"]);
    expect(new Set(watches.map((w) => w.seen.map((o) => o.etag).join())).size).toBe(1);

    // The final change ends every stream OK, after the order reached them.
    await h.orders.cancelOrder({ orderId: id });
    for (const w of watches) expect(await w.ended).toBeUndefined();
    for (const w of watches) expect(w.seen.at(-1)!.status).toBe(OrderStatus.CANCELLED);
    expect(reads.of(id) - before).toBe(2 + changes.length);
    await untilNoWatches(h.module);
  });

  it("watchers of different orders each get their own order's changes only", async () => {
    const [a, b] = [await placeOrder(h), await placeOrder(h)];
    const wa = [1, 2, 3].map(() => startWatch(h.orders, a.id));
    const wb = [1, 2, 3].map(() => startWatch(h.orders, b.id));
    await untilSeen([...wa, ...wb], 1);
    const readsOfB = reads.of(b.id);
    await h.orders.updateShippingInfo({ orderId: a.id, shippingInfo: { carrier: "UPS", trackingNumber: "1Z" } });
    await untilSeen(wa, 2);
    await idle(5 * POLL_MS);
    expect(wb.map((w) => w.seen.length)).toEqual([1, 1, 1]);
    expect(reads.of(b.id)).toBe(readsOfB);
    for (const w of [...wa, ...wb]) w.cancel();
    await untilNoWatches(h.module);
  });
});

/** Breaks the order change listener for real: its backend is terminated and new connections refused until `restore`. */
async function breakListener(h: OrdersHarness) {
  const exec = async <T>(q: ReturnType<typeof sql>) => rowsOf<T>(await h.database.db.execute(q));
  const [{ name }] = await exec<{ name: string }>(sql`select current_database() as name`);
  // A database cannot refuse connections to itself: the switch is thrown from the server's `postgres` database.
  const { url, options } = postgresConnection(process.env.DATABASE_URL!);
  const admin = postgres(url, { ...options, max: 1, onnotice: () => {} });
  await admin.unsafe(`alter database ${name} allow_connections false`);
  const [{ n }] = await exec<{ n: number }>(sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
    where application_name = 'listen:orders_changed' and datname = current_database()`);
  expect(n).toBe(1);
  await vi.waitFor(() => expect(h.module.watches.stats().healthy).toBe(false), { timeout: 15_000 });
  return {
    /** Changes the order as another process would: in SQL, without this process's commit signal. */
    changeElsewhere: (orderId: string) =>
      exec(sql`update orders.orders set status = 'PROCESSING', version = version + 1 where id = ${orderId}`),
    restore: async () => {
      await admin.unsafe(`alter database ${name} allow_connections true`);
      await admin.end();
    },
  };
}

describe.skipIf(!onRealPostgres)("WatchOrder while the change listener is down", () => {
  it("polls: another process's change reaches the watcher before the listener is back", async () => {
    const { h } = await startHarness(POLL_MS);
    try {
      const order = await placeOrder(h);
      const w = startWatch(h.orders, order.id);
      await untilSeen([w], 1);
      const broken = await breakListener(h);
      try {
        await broken.changeElsewhere(order.id);
        await untilSeen([w], 2);
        expect(h.module.watches.stats().healthy).toBe(false); // the poll delivered it, not a reconnect
        expect(w.seen[1].status).toBe(OrderStatus.PROCESSING);
      } finally {
        await broken.restore();
      }
      await vi.waitFor(() => expect(h.module.watches.stats().healthy).toBe(true), { timeout: 15_000 });
      w.cancel();
      await untilNoWatches(h.module);
    } finally {
      await h.close();
    }
  });

  it("re-reads every watched order on reconnect: a change missed while it was down is delivered (no poll at all)", async () => {
    const { h } = await startHarness(3_600_000);
    try {
      const [a, b] = [await placeOrder(h), await placeOrder(h)];
      const wa = startWatch(h.orders, a.id);
      const wb = startWatch(h.orders, b.id);
      await untilSeen([wa, wb], 1);
      const broken = await breakListener(h);
      try {
        await broken.changeElsewhere(a.id);
        await broken.changeElsewhere(b.id);
      } finally {
        await broken.restore();
      }
      await untilSeen([wa, wb], 2);
      expect([wa.seen[1].status, wb.seen[1].status]).toEqual([OrderStatus.PROCESSING, OrderStatus.PROCESSING]);
      expect(h.module.watches.stats().healthy).toBe(true);
      wa.cancel();
      wb.cancel();
      await untilNoWatches(h.module);
    } finally {
      await h.close();
    }
  });
});
