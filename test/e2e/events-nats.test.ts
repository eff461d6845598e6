/**
 * Events on real NATS JetStream (README "Events"), on the app as main.ts
 * builds it with EVENTS_BROKER=nats: every RPC that changes an order yields
 * exactly its event on the ORDERS stream (subject = the event's type), in
 * commit order per order, in CloudEvents binary mode (`ce-*` headers, the
 * body is the data) whose data decodes with the contract's generated types;
 * publishing the same events again stores nothing (Nats-Msg-Id dedupe).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboxEvent } from "../../src/platform/events/event.js";
import { createNatsPublisher, natsNames } from "../../src/platform/events/nats-publisher.js";
import { logger } from "../integration/orders/harness.js";
import { expectLifecycleEvents, runOrderLifecycle } from "../support/order-lifecycle.js";
import { deleteStreams, natsManager, readEvents, sharedNatsUrl, uniqueNatsPrefix, type NatsEntry } from "../support/nats.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";

const url = await sharedNatsUrl();
const prefix = uniqueNatsPrefix();
const names = natsNames("orders", prefix);
let stack: TestStack;

beforeAll(async () => {
  if (!url) return;
  const base = await testConfig();
  stack = await startTestStack({
    config: { events: { ...base.events, broker: "nats", natsUrl: url, natsPrefix: prefix, natsReplicas: 1, pollMs: 50 } },
  });
});
afterAll(async () => {
  await stack?.close();
  if (url) await deleteStreams(url, prefix);
});

async function eventsOf(orderId: string, count: number): Promise<NatsEntry[]> {
  for (let i = 0; i < 200; i++) {
    const seen = await readEvents(url!, "orders", prefix).catch(() => []);
    const mine = seen.filter((e) => e.fields.subject === orderId);
    if (mine.length >= count) return mine;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${count} events of ${orderId} arrived`);
}

describe.skipIf(!url)("order events on NATS JetStream", () => {
  let seen: NatsEntry[] = [];

  it("publishes one event per change, in order, as CloudEvents (binary mode) with protobuf JSON data", async () => {
    const life = await runOrderLifecycle(stack);
    seen = await eventsOf(life.orderId, 6);
    expectLifecycleEvents(seen, life);
    expect(seen.map((e) => e.seq)).toEqual([...seen.map((e) => e.seq)].sort((a, b) => a - b));

    // The messages as stored: subject = the type under the stream's root, ce-* headers, the body is the data.
    const m = await natsManager(url!);
    try {
      const stored = await m.jsm.streams.getMessage(names.stream, { seq: seen[0].seq });
      expect(stored!.subject).toBe(`${prefix}orders.v1.OrderCreated`);
      expect(stored!.header.get("Nats-Msg-Id")).toBe(seen[0].fields.id);
      expect(stored!.header.get("content-type")).toBe("application/json");
      expect(stored!.header.get("ce-type")).toBe("orders.v1.OrderCreated");
      expect(JSON.parse(stored!.string())).toEqual(JSON.parse(seen[0].fields.data));
    } finally {
      await m.close();
    }
  });

  it("stores an event once however often it is published (Nats-Msg-Id dedupe)", async () => {
    expect(seen).toHaveLength(6);
    const events: OutboxEvent[] = seen.map((e, i) => ({
      position: i + 1,
      id: e.fields.id,
      aggregateType: "order",
      aggregateId: e.fields.subject,
      version: Number(e.fields.orderversion),
      type: e.fields.type,
      time: new Date(e.fields.time),
      data: e.fields.data,
      traceparent: e.fields.traceparent ?? null,
      attempts: 0,
    }));
    const publisher = createNatsPublisher({ servers: url!.split(","), replicas: 1, logger, streamPrefix: prefix });
    const m = await natsManager(url!);
    try {
      const before = (await m.jsm.streams.info(names.stream)).state;
      for (let i = 0; i < 100 && !publisher.connection(); i++) await new Promise((r) => setTimeout(r, 50));
      await publisher.publish("orders", "order-service", events); // what the relay already published
      await publisher.publish("orders", "order-service", events); // and once more
      await publisher.publish("orders", "order-service", events.slice(2, 4)); // part of it, out of the batch's order
      const after = (await m.jsm.streams.info(names.stream)).state;
      expect(after.messages).toBe(before.messages);
      expect(after.last_seq).toBe(before.last_seq);
      expect(await publisher.alreadyPublished("orders", events)).toEqual(new Set());
    } finally {
      await m.close();
      await publisher.close();
    }
  });
});
