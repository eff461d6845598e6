/**
 * The consumer example (examples/redis-consumer) end to end on real Redis:
 * the app publishes order events as main.ts builds it; two consumers of one
 * group read them; one "crashes" mid-batch after handling and marking an
 * event but before XACK, leaving it and the rest of its batch pending; the
 * other takes them over with XAUTOCLAIM, and the dedupe store turns the
 * repeat into an acknowledgement. At the end every published event was
 * handled exactly once, per order in version order as each consumer read
 * them fresh, and nothing is pending.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus, type Order } from "../../gen/orders/v1/order_service_pb.js";
import { fieldsOf } from "../../src/platform/events/redis-publisher.js";
import { createOrderEventsConsumer, redisDedupe, type DedupeStore, type OrderEvent, type OrderEventsConsumer } from "../../examples/redis-consumer/consumer.js";
import { ADMIN, customer, STAFF } from "../support/auth.js";
import { clientsOf, transportOf } from "../support/clients.js";
import { sharedRedisUrl, startRedisEventsStack, uniquePrefix, type RedisEventsStack } from "../support/redis.js";
import type { TestStack } from "../support/servers.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";

const url = await sharedRedisUrl();
const prefix = uniquePrefix("consumer");
const stream = `${prefix}orders`;
const GROUP = "billing";
const ORDERS = 5;
const EVENTS_PER_ORDER = 4; // created (v1), confirmed (v2), processing (v3), cancelled (v4)
let stack: TestStack;
let redis: Redis;
/** What the consumers warned about (a wait that times out shows them). */
const warnings: string[] = [];

let events: RedisEventsStack | undefined;
beforeAll(async () => {
  if (!url) return;
  events = await startRedisEventsStack(url, prefix);
  ({ stack, redis } = events);
});
afterAll(() => events?.close());

interface Delivery {
  readonly consumer: string;
  readonly event: OrderEvent;
}

async function until(cond: () => Promise<boolean> | boolean, what: string | (() => string), timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}; the consumers warned: ${JSON.stringify(warnings.slice(0, 5))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** True when a connection named `name` is blocked (in XREADGROUP ... BLOCK). */
async function blocked(name: string): Promise<boolean> {
  const list = (await redis.client("LIST")) as string;
  return list.split("\n").some((line) => line.includes(` name=${name} `) && / flags=[A-Za-z]*b/.test(line));
}

describe.skipIf(!url)("the Redis Streams consumer example", () => {
  it("takes over a crashed consumer's entries with XAUTOCLAIM and handles every event exactly once", async () => {
    const handled: Delivery[] = [];
    const deliveriesOf = new Map<string, number>(); // event id → deliveries that reached the dedupe check
    const readModel = new Map<string, { version: number; order: Order }>(); // newest version wins
    const shared = redisDedupe(redis, { group: GROUP, keyPrefix: `${prefix}eventdedupe:` });
    let crashedEventId: string | undefined;

    const stopA = new AbortController();
    const stopB = new AbortController();
    const consumerOf = (name: string, dedupe: DedupeStore, connection: Redis): OrderEventsConsumer =>
      createOrderEventsConsumer({
        redis: connection,
        stream,
        group: GROUP,
        consumer: name,
        startFrom: "0",
        dedupe: {
          seen: (id) => (deliveriesOf.set(id, (deliveriesOf.get(id) ?? 0) + 1), dedupe.seen(id)),
          markProcessed: (id) => dedupe.markProcessed(id),
        },
        claimIdleMs: 500,
        claimEveryMs: 100,
        blockMs: 100,
        batch: 5,
        warn: (m) => warnings.push(`${name}: ${m}`),
        handle: (event) => {
          handled.push({ consumer: name, event });
          const seen = readModel.get(event.subject);
          const order = "order" in event.data ? event.data.order : undefined;
          if (order && event.version !== undefined && (!seen || event.version > seen.version)) readModel.set(event.subject, { version: event.version, order });
        },
      });

    // Consumer "a" marks its second event processed and then dies before XACK (its loop stops;
    // what it holds stays pending).
    let marksOfA = 0;
    const connA = redis.duplicate({ connectionName: `${prefix}a` });
    const a = consumerOf("a", {
      seen: (id) => shared.seen(id),
      markProcessed: async (id) => {
        await shared.markProcessed(id);
        if (++marksOfA === 2) {
          crashedEventId = id;
          stopA.abort();
          throw new Error("consumer a crashed between marking and XACK");
        }
      },
    }, connA);
    const b = consumerOf("b", shared, redis);

    // "a" blocks first, so Redis serves it the first entries published.
    const runA = a.run(stopA.signal);
    await until(() => blocked(`${prefix}a`), "consumer a to block");
    const runB = b.run(stopB.signal);

    const admin = clientsOf(transportOf(stack, "grpc", ADMIN));
    const staff = clientsOf(transportOf(stack, "grpc", STAFF));
    const [productId, customerId] = [await newProduct(admin, 100), await newCustomer(admin)];
    const mine = clientsOf(transportOf(stack, "connect json", customer(customerId)));
    const orderIds: string[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const { order } = await mine.orders.createOrder({ customerId, requestId: `consumer-${prefix}-${i}`, items: [{ productId, quantity: 1 }] });
      orderIds.push(order!.id);
      await staff.orders.updateOrderStatus({ orderId: order!.id, status: OrderStatus.PROCESSING });
      await mine.orders.cancelOrder({ orderId: order!.id, reason: `test ${i}` });
    }

    const total = ORDERS * EVENTS_PER_ORDER;
    const handledIds = () => new Set(handled.map((h) => h.event.id)).size;
    await until(() => handledIds() >= total, () => `${total} events handled (${handledIds()} so far)`);
    await until(async () => ((await redis.xpending(stream, GROUP)) as [number])[0] === 0, "no entry pending");
    stopA.abort(); // (it stopped itself when it crashed, unless it never got a second event)
    stopB.abort();
    await Promise.all([runA, runB]);
    connA.disconnect();

    // Every event published was handled, each exactly once (the crashed one by "a", before it died).
    const published = ((await redis.xrange(stream, "-", "+")) as [string, string[]][]).map(([, f]) => fieldsOf(f));
    expect(published).toHaveLength(total);
    // (The contract the ordering checks below build on: the stream holds each order's events in version order.)
    for (const orderId of orderIds) {
      expect(published.filter((f) => f.subject === orderId).map((f) => f.orderversion), `stream order of ${orderId}`).toEqual(["1", "2", "3", "4"]);
    }
    const timesHandled = new Map<string, number>();
    for (const h of handled) timesHandled.set(h.event.id, (timesHandled.get(h.event.id) ?? 0) + 1);
    expect([...timesHandled.keys()].sort()).toEqual(published.map((f) => f.id).sort());
    expect([...timesHandled].filter(([, n]) => n !== 1), "events handled more than once").toEqual([]);

    // "a" crashed; "b" took over what it left pending, and the dedupe store caught the repeat.
    expect(crashedEventId).toBeDefined();
    expect(handled.find((h) => h.event.id === crashedEventId)?.consumer).toBe("a");
    expect(deliveriesOf.get(crashedEventId!)).toBe(2);
    expect(a.stats).toMatchObject({ handled: 1, failed: 1 });
    expect(b.stats.claimed).toBeGreaterThanOrEqual(1);
    const repeats = [...deliveriesOf.values()].reduce((n, d) => n + d - 1, 0);
    expect(repeats).toBe(a.stats.duplicates + b.stats.duplicates);
    expect(repeats).toBeGreaterThanOrEqual(1);
    expect(b.stats.deadLettered + a.stats.deadLettered).toBe(0);

    // Per order: versions 1..4 once each; as each consumer read them fresh (">"), in version order.
    for (const orderId of orderIds) {
      const mineOnly = handled.filter((h) => h.event.subject === orderId);
      expect(mineOnly.map((h) => h.event.version).sort(), `versions of ${orderId} handled`).toEqual([1, 2, 3, 4]);
      for (const name of ["a", "b"]) {
        const fresh = mineOnly.filter((h) => h.consumer === name && !h.event.redelivered).map((h) => h.event.version!);
        expect(fresh, `versions of ${orderId} that ${name} read fresh`).toEqual([...fresh].sort((x, y) => x - y));
      }
      // The version-gated read model ends where the service is, whatever order the events came in.
      const { order } = await mine.orders.getOrder({ orderId });
      expect(readModel.get(orderId)?.version).toBe(4);
      expect(readModel.get(orderId)?.order.status).toBe(OrderStatus.CANCELLED);
      expect(readModel.get(orderId)?.order.history.map((c) => c.toStatus)).toEqual(order!.history.map((c) => c.toStatus));
    }

    // Nothing is left for the group.
    const [pending] = (await redis.xpending(stream, GROUP)) as [number];
    expect(pending).toBe(0);
    expect(warnings.filter((w) => !w.includes("crashed between marking and XACK"))).toEqual([]);

    process.stdout.write(
      `consumer example: ${total} events; a handled ${a.stats.handled} (+1 crashed), b handled ${b.stats.handled}, ` +
        `claimed ${b.stats.claimed}, repeats delivered ${repeats}, caught by dedupe ${a.stats.duplicates + b.stats.duplicates}\n`,
    );
  });
});
