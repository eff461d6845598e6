/**
 * Inventory's own events on real brokers (README "Events"), on the app as
 * main.ts builds it: stock crossing STOCK_LOW_THRESHOLD (default 10) and an
 * expired reservation reach the stream "inventory" — Redis stream
 * `<prefix>inventory`, JetStream stream INVENTORY on `inventory.>` — as
 * CloudEvents whose data decodes with gen/inventory/v1/inventory_events_pb.ts,
 * each product's in commit order; its relay shows on /readyz and /metrics.
 */
import { randomUUID } from "node:crypto";
import { fromJsonString } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReservationExpiredSchema, StockLowSchema, StockReplenishedSchema } from "../../gen/inventory/v1/inventory_events_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { fieldsOf } from "../../src/platform/events/redis-publisher.js";
import { ADMIN, asPermitted, authHeaders } from "../support/auth.js";
import { deleteStreams, readEvents, sharedNatsUrl, uniqueNatsPrefix } from "../support/nats.js";
import { sharedRedisUrl, startRedisEventsStack, uniquePrefix, type RedisEventsStack } from "../support/redis.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";

const redisUrl = await sharedRedisUrl();
const natsUrl = await sharedNatsUrl();

type Fields = Record<string, string>;

/** Drives one product across the threshold and back, and lets one reservation expire; returns the ids to look for. */
async function stockStory(stack: TestStack): Promise<{ productId: string; sku: string; reservationId: string }> {
  const client = createClient(InventoryService, asPermitted(stack.transport));
  const p = (await client.createProduct({ sku: `EV-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 1n }, initialStock: 12n })).product!;
  const held = await client.reserveStock({ reservationId: `ev-${randomUUID()}`, lines: [{ productId: p.id, quantity: 3 }], ttl: { seconds: 60n, nanos: 0 } });
  // 12 → 9: StockLow; the sweep (an hour on) expires it: ReservationExpired, then 9 → 12: StockReplenished.
  await stack.app.modules.inventory!.sweepExpired(new Date(Date.now() + 3_600_000));
  return { productId: p.id, sku: p.sku, reservationId: held.reservation!.id };
}

async function waitFor(read: () => Promise<Fields[]>, count: number): Promise<Fields[]> {
  for (let i = 0; i < 300; i++) {
    const seen = await read().catch(() => []);
    if (seen.length >= count) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${count} inventory events arrived`);
}

function expectStory(events: Fields[], story: { productId: string; sku: string; reservationId: string }): void {
  const ofProduct = events.filter((e) => e.subject === story.productId);
  expect(ofProduct.map((e) => e.type)).toEqual(["inventory.v1.StockLow", "inventory.v1.StockReplenished"]);
  for (const e of ofProduct) {
    expect(e).toMatchObject({ specversion: "1.0", source: "order-service", datacontenttype: "application/json" });
    expect(e.orderversion).toBeUndefined();
  }
  expect(fromJsonString(StockLowSchema, ofProduct[0].data)).toMatchObject({ productId: story.productId, sku: story.sku, available: 9n, threshold: 10n });
  expect(fromJsonString(StockReplenishedSchema, ofProduct[1].data)).toMatchObject({ available: 12n, stockOnHand: 12n });
  const expired = events.filter((e) => e.subject === story.reservationId);
  expect(expired.map((e) => e.type)).toEqual(["inventory.v1.ReservationExpired"]);
  const data = fromJsonString(ReservationExpiredSchema, expired[0].data);
  expect(data.lines.map((l) => [l.productId, l.quantity])).toEqual([[story.productId, 3]]);
}

describe.skipIf(!redisUrl)("inventory events on Redis Streams", () => {
  const prefix = uniquePrefix("inventory-events");
  let events: RedisEventsStack;
  let redis: Redis;
  beforeAll(async () => {
    events = await startRedisEventsStack(redisUrl!, prefix);
    redis = events.redis;
  });
  afterAll(() => events?.close());

  it("publishes StockLow, ReservationExpired and StockReplenished on the inventory stream, each product's in order", async () => {
    const story = await stockStory(events.stack);
    const read = async () => {
      const entries = (await redis.xrange(`${prefix}inventory`, "-", "+")) as [string, string[]][];
      return entries.map(([, f]) => fieldsOf(f)).filter((f) => f.subject === story.productId || f.subject === story.reservationId);
    };
    expectStory(await waitFor(read, 3), story);
    // Nothing of inventory's went to the orders stream.
    const orders = (await redis.xrange(`${prefix}orders`, "-", "+")) as [string, string[]][];
    expect(orders.map(([, f]) => fieldsOf(f).type).filter((t) => t.startsWith("inventory."))).toEqual([]);
  });

  it("shows the inventory relay on /readyz and /metrics", async () => {
    const { httpUrl } = events.stack;
    const ready = (await (await fetch(`${httpUrl}/readyz`)).json()) as { events: Record<string, { brokerUp: boolean; published: number }> };
    expect(ready.events.inventory).toMatchObject({ brokerUp: true });
    expect(ready.events.inventory.published).toBeGreaterThanOrEqual(3);
    const metrics = await (await fetch(`${httpUrl}/metrics`, { headers: await authHeaders(ADMIN) })).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*stream="inventory"[^}]*\\} (\\S+)`, "m").exec(metrics)?.[1]);
    expect(value("events_published_total")).toBeGreaterThanOrEqual(3);
    expect(value("events_outbox_unpublished")).toBe(0);
    expect(value("events_publish_lag_seconds_count")).toBeGreaterThanOrEqual(3);
  });

  it("serves inventory's outbox on /events?stream=inventory", async () => {
    const res = await fetch(`${events.stack.httpUrl}/events?stream=inventory&after=0&limit=1000`, { headers: await authHeaders(ADMIN) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: { type: string }[] };
    expect(body.events.map((e) => e.type)).toContain("inventory.v1.ReservationExpired");
  });
});

describe.skipIf(!natsUrl)("inventory events on NATS JetStream", () => {
  const prefix = uniqueNatsPrefix();
  let stack: TestStack;
  beforeAll(async () => {
    const base = await testConfig();
    stack = await startTestStack({ config: { events: { ...base.events, broker: "nats", natsUrl: natsUrl!, natsPrefix: prefix, natsReplicas: 1, pollMs: 50 } } });
  });
  afterAll(async () => {
    await stack?.close();
    if (natsUrl) await deleteStreams(natsUrl, prefix);
  });

  it("publishes them on the INVENTORY stream, subject = type", async () => {
    const story = await stockStory(stack);
    const read = async () =>
      (await readEvents(natsUrl!, "inventory", prefix)).map((e) => e.fields).filter((f) => f.subject === story.productId || f.subject === story.reservationId);
    expectStory(await waitFor(read, 3), story);
  });
});
