/**
 * Every order event the outbox stores (rpc/order-events.ts) reads back
 * (rpc/recorded-orders.ts) as the order it recorded, exactly as the wire
 * sends it, with its status; a deletion carries none.
 */
import { create, equals } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { OrderSchema } from "../../../gen/orders/v1/order_service_pb.js";
import type { Order } from "../../../src/orders/domain/order.js";
import { toProtoOrder } from "../../../src/orders/rpc/order-codec.js";
import { orderEvent, type EncodedEvent } from "../../../src/orders/rpc/order-events.js";
import { recordedChangeOf, toProtoRecordedOrder } from "../../../src/orders/rpc/recorded-orders.js";
import { orderFixture, T1 } from "./order-fixture.js";

/** As the outbox keeps it: jsonb, read back as text. */
const stored = (e: EncodedEvent) => ({ type: e.type, payload: JSON.parse(JSON.stringify(e.payload)) as unknown });

describe("recordedChangeOf", () => {
  const shipped = orderFixture("SHIPPED", {
    version: 7,
    customerNote: "leave at the back door",
    staffNotes: [{ id: "n", requestId: "r", text: "called", author: "staff:s", createTime: T1 }],
    tags: ["gift", "vip"],
    metadata: { erp_id: "SO-1" },
    shippingInfo: { carrier: "UPS", trackingNumber: "1Z" },
    shippingAddress: { recipientName: "Ada", line1: "1 Main St", line2: "", city: "Berlin", region: "", postalCode: "10115", countryCode: "DE" },
    history: [
      { from: undefined, to: "CONFIRMED", reason: "", actor: "customer:c", at: new Date("2024-05-01T10:00:00.123Z") },
      { from: "PROCESSING", to: "SHIPPED", reason: "handed over", actor: "staff:s", at: T1 },
    ],
  });
  const change = { from: "PROCESSING" as const, to: "SHIPPED" as const, reason: "handed over", actor: "staff:s", at: T1 };

  const cancelled = orderFixture("CANCELLED", { version: 4 });
  it.each([
    ["created", orderFixture("PENDING", { version: 1 }), (o: Order) => orderEvent({ kind: "CREATED", order: o })],
    ["status changed", shipped, (o: Order) => orderEvent({ kind: "CHANGED", order: o, changes: [change] })],
    ["shipping info changed", shipped, (o: Order) => orderEvent({ kind: "CHANGED", order: o, changes: [] })],
    ["cancelled", cancelled, (o: Order) => orderEvent({ kind: "CHANGED", order: o, changes: [{ ...change, to: "CANCELLED" }] })],
    [
      "payment reported",
      shipped,
      (o: Order) => orderEvent({ kind: "PAYMENT_REPORTED", order: o, report: { eventId: "e", kind: "CAPTURED", amountMinor: 1n, reason: "" }, actor: "service:pay" }),
    ],
    ["refund due", cancelled, (o: Order) => orderEvent({ kind: "REFUND_DUE", order: o, amountMinor: 1n, reason: "order cancelled" })],
    ["shipment changed", shipped, (o: Order) => orderEvent({ kind: "SHIPMENT", order: o, shipments: [], changes: [change] })],
    [
      "return changed",
      shipped,
      (o: Order) =>
        orderEvent({
          kind: "RETURN",
          order: o,
          ret: { id: "r", requestId: "r", status: "REQUESTED", lines: [{ lineNo: 1, quantity: 1 }], reason: "", refundMinor: undefined, createTime: T1, updateTime: T1 },
          reason: "",
        }),
    ],
    ["note added", shipped, (o: Order) => orderEvent({ kind: "NOTE_ADDED", order: o, note: { id: "n", requestId: "r", text: "t", author: "staff:s", createTime: T1 } })],
    ["tags changed", shipped, (o: Order) => orderEvent({ kind: "TAGS_CHANGED", order: o, added: ["gift"], removed: [], actor: "staff:s" })],
    ["metadata changed", shipped, (o: Order) => orderEvent({ kind: "METADATA_CHANGED", order: o, setKeys: ["erp"], removedKeys: [], actor: "staff:s" })],
    [
      "unshipped cancelled",
      shipped,
      (o: Order) =>
        orderEvent({
          kind: "UNSHIPPED_CANCELLED",
          order: o,
          restock: { id: "x", kind: "CANCELLED_REST", lines: [{ lineNo: 1, quantity: 1 }], state: "PENDING", createTime: T1 },
          changes: [change],
        }),
    ],
  ])("%s: the order as the wire sends it, with its status", (_, order, encode) => {
    const { type, payload } = stored(encode(order));
    const got = recordedChangeOf(order.version, type, payload);
    expect(got.version).toBe(order.version);
    expect(got.order?.status).toBe(order.status);
    expect(equals(OrderSchema, toProtoRecordedOrder(got.order!.recorded), create(OrderSchema, toProtoOrder(order)))).toBe(true);
  });

  it("a deletion carries no order; an unknown event type is an error", () => {
    const deleted = orderFixture("CANCELLED", { version: 5, deleted: true });
    const { type, payload } = stored(orderEvent({ kind: "CHANGED", order: deleted, changes: [] }));
    expect(recordedChangeOf(5, type, payload)).toEqual({ version: 5, order: undefined });
    expect(() => recordedChangeOf(6, "orders.v1.Nonsense", {})).toThrow(/not an order event/);
  });
});
