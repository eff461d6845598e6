/**
 * The read path builds Order messages directly (order-codec.ts) instead of
 * letting protobuf-es's `create` walk init objects: for every kind of order
 * the built message must be exactly what `create` makes of the same content
 * (every field present with its zero value, nested messages typed) and
 * encode to the same bytes and JSON.
 */
import { create, toBinary, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ListOrdersResponseSchema, OrderSchema } from "../../../gen/orders/v1/order_service_pb.js";
import type { Order } from "../../../src/orders/domain/order.js";
import { toGetOrderResponse, toProtoOrder, toProtoReturn, toProtoShipment, toProtoStaffNote } from "../../../src/orders/rpc/order-codec.js";
import { orderFixture, T0, T1 } from "./order-fixture.js";

/** The same content as an init object: no `$typeName` anywhere (bytes and dates left alone). */
function asInit(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asInit);
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== "$typeName") out[k] = asInit(v);
  return out;
}

const unit = { currency: "EUR", amountMinor: 1250n };
const ORDERS: [string, Order][] = [
  ["a new order", orderFixture("CONFIRMED")],
  ["a pending one", orderFixture("PENDING")],
  [
    "one with everything",
    orderFixture("SHIPPED", {
      lines: [
        { productId: "p", variantId: "red", quantity: 2, unitPrice: unit, lineTotal: { ...unit, amountMinor: 2500n } },
        { productId: "q", variantId: "", quantity: 3, unitPrice: unit, lineTotal: { ...unit, amountMinor: 3750n } },
      ],
      total: { currency: "EUR", amountMinor: 6250n },
      shippingAddress: { recipientName: "Grace", line1: "1 Navy Way", line2: "", city: "Arlington", region: "VA", postalCode: "22202", countryCode: "US" },
      shippingInfo: { carrier: "UPS", trackingNumber: "1Z" },
      history: [
        { from: undefined, to: "PENDING", reason: "", actor: "customer:x", at: T0 },
        { from: "PENDING", to: "CONFIRMED", reason: "sold", actor: "service:orders", at: T1 },
      ],
      payment: { status: "PARTIALLY_REFUNDED", authorizedMinor: 6250n, capturedMinor: 6250n, refundedMinor: 1250n, refundPendingMinor: 0n },
      shipments: [
        { id: "s1", requestId: "r1", status: "DELIVERED", lines: [{ lineNo: 1, quantity: 2 }], shippingInfo: { carrier: "UPS", trackingNumber: "1Z" }, createTime: T0, shipTime: T0, deliverTime: T1 },
        { id: "s2", requestId: "", status: "PENDING", lines: [{ lineNo: 2, quantity: 1 }], shippingInfo: undefined, createTime: T1, shipTime: undefined, deliverTime: undefined },
      ],
      restocks: [{ id: "k1", kind: "CANCELLED_REST", lines: [{ lineNo: 2, quantity: 2 }], state: "DONE", createTime: T1 }],
      returns: [
        { id: "ret1", requestId: "rr", status: "RECEIVED", lines: [{ lineNo: 1, quantity: 1 }], reason: "broken", refundMinor: 1250n, createTime: T0, updateTime: T1 },
        { id: "ret2", requestId: "rs", status: "REQUESTED", lines: [{ lineNo: 1, quantity: 1 }], reason: "", refundMinor: undefined, createTime: T1, updateTime: T1 },
      ],
      customerNote: "leave at the back door",
      staffNotes: [{ id: "n1", requestId: "note-1", text: "called", author: "staff:ann", createTime: T1 }],
      tags: ["fraud-review", "gift"],
      metadata: { erp_id: "SO-4711", "": "empty key" },
    }),
  ],
];

describe("the Order messages reads build", () => {
  it.each(ORDERS)("equal what create makes of the same content: %s", (_, order) => {
    const built = toProtoOrder(order);
    const created = create(OrderSchema, asInit(built) as MessageInitShape<typeof OrderSchema>);
    expect(built).toEqual(created); // an unset message field is an own `undefined` here, absent there: both unset
    expect(toBinary(OrderSchema, built)).toEqual(toBinary(OrderSchema, created));
    expect(toJsonString(OrderSchema, built)).toBe(toJsonString(OrderSchema, created));
    // And pass through the transports' create untouched (a page's orders are not walked again).
    const page = create(ListOrdersResponseSchema, { orders: [built] });
    expect(page.orders[0]).toBe(built);
  });

  it("the parts answered on their own (a shipment, a return, a note) equal create's too", () => {
    const order = ORDERS[2]![1];
    for (const [schema, built] of [
      [OrderSchema.file.messages.find((m) => m.name === "Shipment")!, toProtoShipment(order.shipments[0]!)],
      [OrderSchema.file.messages.find((m) => m.name === "Return")!, toProtoReturn(order.returns[0]!, "EUR")],
      [OrderSchema.file.messages.find((m) => m.name === "StaffNote")!, toProtoStaffNote(order.staffNotes[0]!)],
    ] as const) {
      expect(built).toStrictEqual(create(schema, asInit(built) as never));
    }
  });
});

describe("GetOrder's answer for one Order object (the read cache hands out the same one on every hit)", () => {
  it("is built once, left unfrozen when answered once, and frozen when answered again (its encoding then reused)", () => {
    const order = ORDERS[2]![1];
    const first = toGetOrderResponse(order);
    expect(Object.isFrozen(first)).toBe(false);
    const second = toGetOrderResponse(order);
    expect(second).toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    expect(Object.isFrozen(second.order!.lines[0])).toBe(true);
    expect(toGetOrderResponse(order)).toBe(first);
    // Another Order object (a fresh read) gets its own answer.
    expect(toGetOrderResponse({ ...order })).not.toBe(first);
  });
});
