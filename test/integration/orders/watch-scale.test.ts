/**
 * 5,000 concurrent watches over the in-process transport: the database load
 * while nothing changes does not grow with the watchers. Counted two ways:
 * the orders repository's reads (a wrapped repository, both databases) and,
 * on Postgres, the database's committed transactions (pg_stat_database
 * xact_commit) over the same idle window with 0 and with 5,000 watches.
 * Bounds on counts, never on time.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Order } from "../../../gen/orders/v1/order_service_pb.js";
import { loadConfig } from "../../../src/config.js";
import { rowsOf } from "../../../src/platform/db.js";
import { onRealPostgres } from "../../support/db.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { createReadCounter, startWatch, untilNoWatches, untilSeen, type ReadCounter, type Watching } from "./watch-support.js";

const WATCHES = 5000;
const ORDERS = 50;
const POLL_MS = 100;
const IDLE_WINDOW_MS = 3000;
/**
 * A backend reports its transactions to pg_stat_database up to 10 s late when it goes idle
 * within a second of its last report (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): work done just
 * before a window would be counted in it. Each measured window starts after this long.
 */
const STATS_SETTLE_MS = onRealPostgres ? 11_000 : 0;
const settle = () => new Promise((r) => setTimeout(r, STATS_SETTLE_MS));

let h: OrdersHarness;
let reads: ReadCounter;
beforeAll(async () => {
  reads = createReadCounter();
  h = await createOrdersHarness({
    wrapOrderRepository: reads.wrap,
    config: {
      watchPollMs: POLL_MS,
      watchMaxPerPrincipal: WATCHES,
      watchMaxTotal: WATCHES,
      // All 5,000 open at once; a watch holds an admission slot until its first message, so the
      // queue must hold them all (the default queue would turn most away with RESOURCE_EXHAUSTED).
      admission: loadConfig({ ADMISSION_MAX_QUEUE: String(WATCHES) }).admission,
    },
  });
});
afterAll(() => h?.close());

const committedTransactions = async () =>
  onRealPostgres
    ? Number(
        rowsOf<{ n: string }>(
          await h.database.db.execute(sql`select xact_commit::text as n from pg_stat_database where datname = current_database()`),
        )[0].n,
      )
    : 0;

/** Reads and committed transactions over an idle window. */
async function idleLoad(): Promise<{ reads: number; transactions: number }> {
  const [r0, x0] = [reads.total(), await committedTransactions()];
  await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
  return { reads: reads.total() - r0, transactions: (await committedTransactions()) - x0 };
}

describe("5,000 concurrent watches", () => {
  it("cost no database work while nothing changes, and one read per change", { timeout: 180_000 }, async () => {
    const [productId, customerId] = [await newProduct(h, ORDERS), await newCustomer(h)];
    const orders: Order[] = [];
    for (let i = 0; i < ORDERS; i++) {
      orders.push((await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!);
    }
    await settle(); // the orders' creation is reported before the window
    const without = await idleLoad();

    const before = reads.total();
    const watches: Watching[] = Array.from({ length: WATCHES }, (_, i) => startWatch(h.orders, orders[i % ORDERS].id));
    await untilSeen(watches, 1, 120_000);
    expect(h.module.watches.stats()).toMatchObject({ watches: WATCHES, orders: ORDERS });
    // Opening reads each order about once, not once per watcher.
    expect(reads.total() - before).toBeLessThanOrEqual(2 * ORDERS);

    await settle(); // and the watches' opening reads
    const withWatches = await idleLoad();
    expect(withWatches.reads).toBe(0);
    // The health monitor's pings and our own two queries: the same with or without watchers (stats lag a little).
    expect(withWatches.transactions).toBeLessThanOrEqual(without.transactions + 20);

    const changed = orders[0].id;
    const r0 = reads.of(changed);
    await h.orders.updateShippingInfo({ orderId: changed, shippingInfo: { carrier: "UPS", trackingNumber: "1Z" } });
    const ofChanged = watches.filter((_, i) => i % ORDERS === 0);
    await untilSeen(ofChanged, 2);
    expect(reads.of(changed) - r0).toBe(1);
    expect(watches.filter((w) => w.seen.length > 1)).toHaveLength(ofChanged.length);

    for (const w of watches) w.cancel();
    await untilNoWatches(h.module, 60_000);
  });
});
