/**
 * Broker outage test of events out (README "Events", the delivery contract
 * in proto/orders/v1/order_events.proto), on the app as main.ts builds it:
 * while clients create and cancel orders, the Redis the relay publishes to
 * is killed (SIGKILL: connections reset mid-write) and started again on the
 * same port a few seconds later.
 * - While it is down every call still succeeds (RPCs only write the
 *   outbox), the backlog grows by at least the orders taken, and the relay
 *   reports the broker down.
 * - Once it is back the backlog drains to 0 by itself, the relay reports
 *   failures and the broker up again, and the stream holds every outbox
 *   row's event — those published before the kill, those in flight when it
 *   came, those committed during the outage — each order's in version
 *   order, repeats only as exact copies (counted), nothing foreign.
 * The Redis keeps its data on disk (redis.ts `startRedis({ durable: true })`: append-only file,
 * fsync always), so after its restart it still has what it acknowledged
 * before: an event missing from the stream was dropped by the relay, not
 * forgotten by the broker.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN } from "../support/auth.js";
import { clientsOver, type Clients } from "../support/clients.js";
import { auditStream, drainedSnapshot, outboxRows, readStream } from "../support/event-audit.js";
import { redisServerPath, startRedis, uniquePrefix, type PrivateRedis } from "../support/redis.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";

const prefix = uniquePrefix("events-outage");
const OUTAGE_MS = 4000;

let broker: PrivateRedis | undefined;
let stack: TestStack | undefined;
let reader: Redis | undefined;

afterAll(async () => {
  reader?.disconnect();
  await stack?.close();
  await broker?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Call {
  readonly kind: "create" | "cancel";
  readonly start: number;
  readonly end: number;
  readonly error?: string;
}

/** Clients in a loop: create an order (70%) or cancel one of their own; every call recorded. */
function startLoad(clients: readonly Clients[], customerId: string, productId: string) {
  let stopped = false;
  const calls: Call[] = [];
  let seq = 0;
  const worker = async (c: Clients) => {
    const mine: string[] = [];
    while (!stopped) {
      const kind = mine.length === 0 || Math.random() < 0.7 ? "create" : "cancel";
      const start = Date.now();
      try {
        if (kind === "create") {
          const { order } = await c.orders.createOrder(
            { customerId, requestId: `outage-${seq++}`, items: [{ productId, quantity: 1 }] },
            { timeoutMs: 10_000 },
          );
          mine.push(order!.id);
        } else {
          await c.orders.cancelOrder({ orderId: mine.splice(Math.floor(Math.random() * mine.length), 1)[0], reason: "outage test" }, { timeoutMs: 10_000 });
        }
        calls.push({ kind, start, end: Date.now() });
      } catch (err) {
        calls.push({ kind, start, end: Date.now(), error: String(err) });
      }
    }
  };
  const running = clients.map(worker);
  return {
    calls,
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

describe.skipIf(!redisServerPath())("events out: broker outage", () => {
  it("keeps taking orders while Redis is down and, once it is back, publishes every event in order", { timeout: 180_000 }, async () => {
    broker = await startRedis({ durable: true });
    const base = await testConfig();
    stack = await startTestStack({ config: { events: { ...base.events, broker: "redis", redisUrl: broker.url, redisPrefix: prefix, pollMs: 50 } } });
    const orders = stack.app.modules.orders!;
    const key = `${prefix}orders`;
    reader = new Redis(broker.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    reader.on("error", () => undefined);
    await reader.connect();

    const admin = clientsOver(stack, "grpc", ADMIN);
    const [productId, customerId] = [await newProduct(admin, 1_000_000), await newCustomer(admin)];
    const load = startLoad(
      Array.from({ length: 4 }, () => clientsOver(stack!, "grpc", ADMIN)),
      customerId,
      productId,
    );
    try {
      // Events flow before the outage.
      await until(async () => (await reader!.xlen(key)) >= 10, 30_000, "events on the stream before the outage");

      reader.disconnect();
      const failuresBefore = orders.relay!.stats().failures;
      const down = Date.now();
      await broker.kill();
      let peak = 0;
      let brokerSeenDown = false;
      while (Date.now() - down < OUTAGE_MS) {
        peak = Math.max(peak, (await orders.outbox.backlog()).unpublished);
        brokerSeenDown ||= !orders.relay!.stats().brokerUp;
        await sleep(100);
      }
      const atRestore = (await orders.outbox.backlog()).unpublished;
      const triesWhileDown = orders.relay!.stats().failures - failuresBefore;
      peak = Math.max(peak, atRestore);
      await broker.restart();
      const up = Date.now();
      await sleep(1000);
      await load.stop();

      const { rows: published } = await drainedSnapshot(stack.database.db, 60_000);
      const drainMs = Date.now() - up;
      reader = new Redis(broker.url, { lazyConnect: true });
      await reader.connect();
      const entries = await readStream(reader, key);
      const rows = await outboxRows(stack.database.db);
      const audit = auditStream(published, entries, rows);

      const during = load.calls.filter((c) => c.start >= down && c.end <= up);
      const createdDuring = during.filter((c) => c.kind === "create" && !c.error).length;
      const stats = orders.relay!.stats();
      const beforeKill = rows.filter((r) => r.createTime.getTime() < down).length;
      console.log(
        `events-outage: Redis down ${up - down} ms; ${during.length} calls during it (${createdDuring} orders taken, slowest ${Math.max(...during.map((c) => c.end - c.start))} ms); ` +
          `backlog ${atRestore} at restore, peak ${peak}; drained ${drainMs} ms after restore; ` +
          `${rows.length} outbox rows (${beforeKill} committed before the kill), ${audit.entries} stream entries = ${audit.events} events + ${audit.duplicates} duplicates; ` +
          `relay failures ${stats.failures} (${triesWhileDown} tries while down)`,
      );

      // The RPCs never waited on the broker: every call succeeded, during the outage too.
      expect(load.calls.filter((c) => c.error)).toEqual([]);
      expect(createdDuring).toBeGreaterThan(0);
      // The outbox held what could not be published: at least the orders taken while Redis was down.
      // The relay kept trying (100 ms doubling: 4+ tries in 4 s), each try counted, and said the broker was down…
      expect(brokerSeenDown).toBe(true);
      expect(triesWhileDown).toBeGreaterThanOrEqual(3);
      // …and backed off: about log2(outage / 100 ms) tries, then one per 5 s — not one per commit.
      expect(triesWhileDown).toBeLessThanOrEqual(8 + (up - down) / 5000);
      expect(atRestore).toBeGreaterThanOrEqual(createdDuring);
      // Back: drained, and everything on the stream.
      expect((await orders.outbox.backlog()).unpublished).toBe(0);
      expect(beforeKill).toBeGreaterThanOrEqual(10);
      expect(audit.lost).toEqual([]);
      expect(audit.outOfOrder).toEqual([]);
      expect(audit.badDuplicates).toEqual([]);
      expect(audit.foreign).toEqual([]);
      expect(audit.mismatched).toEqual([]);
      expect(audit.dead).toEqual([]);
      expect(stats.failures).toBeGreaterThan(0);
      expect(stats.brokerUp).toBe(true);
    } finally {
      await load.stop();
    }
  });
});
