/**
 * Events on real Redis (README "Events"), on the app as main.ts builds it:
 * every RPC that changes an order yields exactly its event on the "orders"
 * stream, in commit order per order, as a CloudEvents envelope whose data
 * decodes with the contract's generated types.
 */
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/platform/db.js";
import { fieldsOf } from "../../src/platform/events/redis-publisher.js";
import { ADMIN, authHeaders } from "../support/auth.js";
import { expectLifecycleEvents, runOrderLifecycle } from "../support/order-lifecycle.js";
import { sharedRedisUrl, startRedisEventsStack, uniquePrefix, type RedisEventsStack } from "../support/redis.js";
import type { TestStack } from "../support/servers.js";

const url = await sharedRedisUrl();
const prefix = uniquePrefix("events");
let stack: TestStack;
let redis: Redis;

let events: RedisEventsStack | undefined;
beforeAll(async () => {
  if (!url) return;
  events = await startRedisEventsStack(url, prefix);
  ({ stack, redis } = events);
});
afterAll(() => events?.close());

interface Seen {
  readonly fields: Record<string, string>;
}

async function eventsOf(orderId: string, count: number): Promise<Seen[]> {
  for (let i = 0; i < 200; i++) {
    const entries = (await redis.xrange(`${prefix}orders`, "-", "+")) as [string, string[]][];
    const seen = entries.map(([, f]) => ({ fields: fieldsOf(f) })).filter((e) => e.fields.subject === orderId);
    if (seen.length >= count) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${count} events of ${orderId} arrived`);
}

describe.skipIf(!url)("order events on Redis Streams", () => {
  it("publishes one event per change, in order, as CloudEvents with protobuf JSON data", async () => {
    const life = await runOrderLifecycle(stack);
    expectLifecycleEvents(await eventsOf(life.orderId, 6), life);
  });

  it("shows the relay on /metrics and /readyz", async () => {
    // The relay marks a batch published after the broker took it: the last event can be on the stream a moment
    // before its row is marked. Scrape until the outbox has caught up (bounded), then check every figure.
    let metrics = "";
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*stream="orders"[^}]*\\} (\\S+)`, "m").exec(metrics)?.[1]);
    for (let i = 0; i < 100; i++) {
      metrics = await (await fetch(`${stack.httpUrl}/metrics`, { headers: await authHeaders(ADMIN) })).text();
      if (value("events_outbox_unpublished") === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(value("events_published_total")).toBeGreaterThanOrEqual(6);
    expect(value("events_broker_up")).toBe(1);
    expect(value("events_outbox_unpublished")).toBe(0);
    expect(value("events_publish_lag_seconds_count")).toBeGreaterThanOrEqual(6);
    const ready = (await (await fetch(`${stack.httpUrl}/readyz`)).json()) as { status: string; events: { orders: { brokerUp: boolean; published: number } } };
    expect(ready).toMatchObject({ status: "ok", events: { orders: { brokerUp: true } } });
    expect(ready.events.orders.published).toBeGreaterThanOrEqual(6);
  });

  it("purges published events past RETENTION_OUTBOX_HOURS, never an unpublished one", async () => {
    const db = stack.database.db;
    const count = async (where: ReturnType<typeof sql>) => rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from orders.outbox where ${where}`))[0].n;
    await db.execute(sql`update orders.outbox set publish_time = publish_time - interval '400 hours' where publish_time is not null`);
    // An old row the relay has not published (as if the broker had been down for weeks): kept.
    await db.execute(
      sql`insert into orders.outbox (aggregate_id, version, event_type, payload, create_time, dead_time) values (gen_random_uuid(), 1, 'orders.v1.OrderCreated', '{}', now() - interval '400 hours', now())`,
    );
    const published = await count(sql`publish_time is not null`);
    expect(published).toBeGreaterThanOrEqual(6);
    const purged = await stack.app.modules.orders!.retention.purge();
    expect(purged["orders.outbox"]).toBe(published);
    expect(await count(sql`publish_time is not null`)).toBe(0);
    expect(await count(sql`dead_time is not null`)).toBe(1);
  });
});
