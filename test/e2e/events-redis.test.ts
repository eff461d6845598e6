/**
 * Events on real Redis (README "Events"), on the app as main.ts builds it:
 * every RPC that changes an order yields exactly its event on the "orders"
 * stream, in commit order per order, as a CloudEvents envelope whose data
 * decodes with the contract's generated types.
 */
import { fromJson } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderDeletedSchema,
  OrderShippingInfoChangedSchema,
  OrderStatusChangedSchema,
} from "../../gen/orders/v1/order_events_pb.js";
import { OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { fieldsOf } from "../../src/platform/events/redis-publisher.js";
import { ADMIN, customer, STAFF } from "../support/auth.js";
import { clientsOf, transportOf } from "../support/clients.js";
import { sharedRedisUrl, uniquePrefix } from "../support/redis.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";

const url = await sharedRedisUrl();
const prefix = uniquePrefix("events");
let stack: TestStack;
let redis: Redis;

beforeAll(async () => {
  if (!url) return;
  const base = await testConfig();
  stack = await startTestStack({
    config: { events: { ...base.events, broker: "redis", redisUrl: url, redisPrefix: prefix, pollMs: 50 } },
  });
  redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await stack?.close();
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});

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
    const admin = clientsOf(transportOf(stack, "grpc", ADMIN));
    const staff = clientsOf(transportOf(stack, "grpc", STAFF));
    const [productId, customerId] = [await newProduct(admin, 10), await newCustomer(admin)];
    const mine = clientsOf(transportOf(stack, "connect json", customer(customerId)));

    const { order } = await mine.orders.createOrder({ customerId, requestId: `ev-${Date.now()}`, items: [{ productId, quantity: 2 }] });
    const id = order!.id;
    await staff.orders.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING });
    await staff.orders.updateShippingInfo({ orderId: id, shippingInfo: { carrier: "DHL", trackingNumber: "JD1" } });
    await mine.orders.cancelOrder({ orderId: id, reason: "changed my mind" });
    await admin.orders.deleteOrder({ orderId: id });

    const seen = await eventsOf(id, 6);
    expect(seen.map((e) => [e.fields.type, e.fields.orderversion])).toEqual([
      ["orders.v1.OrderCreated", "1"],
      ["orders.v1.OrderStatusChanged", "2"],
      ["orders.v1.OrderStatusChanged", "3"],
      ["orders.v1.OrderShippingInfoChanged", "4"],
      ["orders.v1.OrderCancelled", "5"],
      ["orders.v1.OrderDeleted", "6"],
    ]);
    for (const { fields } of seen) {
      expect(fields).toMatchObject({ specversion: "1.0", source: "order-service", subject: id, datacontenttype: "application/json" });
      expect(fields.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(fields.time)).not.toBeNaN();
    }
    expect(new Set(seen.map((e) => e.fields.id)).size).toBe(6);

    const data = seen.map((e) => JSON.parse(e.fields.data) as never);
    const created = fromJson(OrderCreatedSchema, data[0]);
    expect(created.order?.status).toBe(OrderStatus.PENDING);
    expect(created.order?.lines[0]).toMatchObject({ productId, quantity: 2 });
    const confirmed = fromJson(OrderStatusChangedSchema, data[1]);
    expect(confirmed.changes.map((c) => c.toStatus)).toEqual([OrderStatus.CONFIRMED]);
    expect(fromJson(OrderShippingInfoChangedSchema, data[3]).order?.shippingInfo).toMatchObject({ carrier: "DHL", trackingNumber: "JD1" });
    const cancelled = fromJson(OrderCancelledSchema, data[4]);
    expect(cancelled.changes[0]).toMatchObject({ toStatus: OrderStatus.CANCELLED, reason: "changed my mind", actor: `customer:${customerId}` });
    expect(cancelled.stockReturned).toEqual([expect.objectContaining({ productId, quantity: 2 })]);
    expect(fromJson(OrderDeletedSchema, data[5])).toMatchObject({ orderId: id, customerId, version: 6 });
  });
});
