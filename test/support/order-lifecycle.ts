/**
 * One order's whole life through the API, and what its events must say —
 * shared by the broker tests (events-redis, events-nats): created, moved to
 * PROCESSING, shipping info set, cancelled by its customer, deleted by an
 * admin; six events, versions 1–6, as CloudEvents whose data decodes with
 * the contract's generated types.
 */
import { fromJson } from "@bufbuild/protobuf";
import { expect } from "vitest";
import {
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderDeletedSchema,
  OrderShippingInfoChangedSchema,
  OrderStatusChangedSchema,
} from "../../gen/orders/v1/order_events_pb.js";
import { OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";
import { ADMIN, customer, STAFF } from "./auth.js";
import { clientsOf, transportOf } from "./clients.js";
import type { TestStack } from "./servers.js";

export interface Lifecycle {
  readonly orderId: string;
  readonly customerId: string;
  readonly productId: string;
}

/** Runs the life; its six changes commit one after another. */
export async function runOrderLifecycle(stack: Pick<TestStack, "grpcUrl" | "httpUrl">): Promise<Lifecycle> {
  const admin = clientsOf(transportOf(stack, "grpc", ADMIN));
  const staff = clientsOf(transportOf(stack, "grpc", STAFF));
  const [productId, customerId] = [await newProduct(admin, 10), await newCustomer(admin)];
  const mine = clientsOf(transportOf(stack, "connect json", customer(customerId)));
  const { order } = await mine.orders.createOrder({ customerId, requestId: `ev-${Date.now()}`, items: [{ productId, quantity: 2 }] });
  const orderId = order!.id;
  await staff.orders.updateOrderStatus({ orderId, status: OrderStatus.PROCESSING });
  await staff.orders.updateShippingInfo({ orderId, shippingInfo: { carrier: "DHL", trackingNumber: "JD1" } });
  await mine.orders.cancelOrder({ orderId, reason: "changed my mind" });
  await admin.orders.deleteOrder({ orderId });
  return { orderId, customerId, productId };
}

/** The life's events as a broker delivered them (CloudEvents attributes and `data`), in delivery order. */
export function expectLifecycleEvents(seen: readonly { readonly fields: Readonly<Record<string, string>> }[], l: Lifecycle): void {
  expect(seen.map((e) => [e.fields.type, e.fields.orderversion])).toEqual([
    ["orders.v1.OrderCreated", "1"],
    ["orders.v1.OrderStatusChanged", "2"],
    ["orders.v1.OrderStatusChanged", "3"],
    ["orders.v1.OrderShippingInfoChanged", "4"],
    ["orders.v1.OrderCancelled", "5"],
    ["orders.v1.OrderDeleted", "6"],
  ]);
  for (const { fields } of seen) {
    expect(fields).toMatchObject({ specversion: "1.0", source: "order-service", subject: l.orderId, datacontenttype: "application/json" });
    expect(fields.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(fields.time)).not.toBeNaN();
  }
  expect(new Set(seen.map((e) => e.fields.id)).size).toBe(6);

  const data = seen.map((e) => JSON.parse(e.fields.data) as never);
  const created = fromJson(OrderCreatedSchema, data[0]);
  expect(created.order?.status).toBe(OrderStatus.PENDING);
  expect(created.order?.lines[0]).toMatchObject({ productId: l.productId, quantity: 2 });
  expect(fromJson(OrderStatusChangedSchema, data[1]).changes.map((c) => c.toStatus)).toEqual([OrderStatus.CONFIRMED]);
  expect(fromJson(OrderShippingInfoChangedSchema, data[3]).order?.shippingInfo).toMatchObject({ carrier: "DHL", trackingNumber: "JD1" });
  const cancelled = fromJson(OrderCancelledSchema, data[4]);
  expect(cancelled.changes[0]).toMatchObject({ toStatus: OrderStatus.CANCELLED, reason: "changed my mind", actor: `customer:${l.customerId}` });
  expect(cancelled.stockReturned).toEqual([expect.objectContaining({ productId: l.productId, quantity: 2 })]);
  expect(fromJson(OrderDeletedSchema, data[5])).toMatchObject({ orderId: l.orderId, customerId: l.customerId, version: 6 });
}
