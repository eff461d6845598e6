/**
 * Shipments in the domain (domain/fulfilment.ts, transition.ts): the
 * shipment table, enumerated (every pair of statuses through
 * SET_SHIPMENT_STATUS is allowed exactly when the table says) and printed in
 * the README; the fulfilment status from the shipments; never more of a line
 * in parcels than ordered; the order following its parcels; the
 * one-shipment shortcut.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  fulfilmentStatusOf,
  SHIPMENT_STATUSES,
  SHIPMENT_TRANSITIONS,
  shipmentIdFor,
  shipmentTableMarkdown,
  type Shipment,
  type ShipmentStatus,
} from "../../../src/orders/domain/fulfilment.js";
import type { Order } from "../../../src/orders/domain/order.js";
import { decide } from "../../../src/orders/domain/transition.js";
import { decided, orderFixture, refused, T0, T1 } from "./order-fixture.js";

const meta = { at: T1, actor: "staff:s" };
const info = { carrier: "UPS", trackingNumber: "1Z" };
const unit = { currency: "EUR", amountMinor: 100n };
const line = (quantity: number) => ({ productId: "p", variantId: "", quantity, unitPrice: unit, lineTotal: unit });

/** An order of two lines, 2 and 1 units. */
const twoLines = (status: Order["status"], shipments: Shipment[] = []) =>
  orderFixture(status, { lines: [line(2), line(1)], shipments });

const parcel = (id: string, status: ShipmentStatus, lines: { lineNo: number; quantity: number }[], withInfo = true): Shipment => ({
  id,
  requestId: id,
  status,
  lines,
  shippingInfo: withInfo ? info : undefined,
  createTime: T0,
  shipTime: undefined,
  deliverTime: undefined,
});


describe("the shipment table", () => {
  it.each(SHIPMENT_STATUSES.flatMap((from) => SHIPMENT_STATUSES.map((to) => [from, to] as const)))("%s → %s", (from, to) => {
    const order = twoLines("PROCESSING", [parcel("a", from, [{ lineNo: 1, quantity: 1 }])]);
    const out = decide(order, { kind: "SET_SHIPMENT_STATUS", shipmentId: "a", to, shippingInfo: undefined, reason: "" }, meta);
    if (from === to) {
      expect(decided(out).changed).toBe(false);
    } else if (SHIPMENT_TRANSITIONS[from].includes(to)) {
      expect(decided(out).order.shipments[0]!.status).toBe(to);
    } else {
      expect(refused(out).reason).toBe("ILLEGAL_SHIPMENT_TRANSITION");
    }
  });

  it("is README's shipment table", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const block = /<!-- shipments:start -->\n([\s\S]*?)\n<!-- shipments:end -->/.exec(readme);
    expect(block?.[1]).toBe(shipmentTableMarkdown());
  });
});

describe("fulfilment status", () => {
  const ordered = [2, 1];
  it.each([
    [[], "UNFULFILLED"],
    [[parcel("a", "PENDING", [{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 1 }])], "UNFULFILLED"],
    [[parcel("a", "SHIPPED", [{ lineNo: 1, quantity: 1 }])], "PARTIALLY_SHIPPED"],
    [[parcel("a", "SHIPPED", [{ lineNo: 1, quantity: 2 }]), parcel("b", "SHIPPED", [{ lineNo: 2, quantity: 1 }])], "SHIPPED"],
    [[parcel("a", "DELIVERED", [{ lineNo: 1, quantity: 2 }]), parcel("b", "SHIPPED", [{ lineNo: 2, quantity: 1 }])], "PARTIALLY_DELIVERED"],
    [[parcel("a", "DELIVERED", [{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 1 }])], "DELIVERED"],
    [[parcel("a", "CANCELLED", [{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 1 }])], "UNFULFILLED"],
  ] as const)("%j → %s", (shipments, status) => {
    expect(fulfilmentStatusOf(ordered, shipments)).toBe(status);
  });
});

describe("CreateShipment", () => {
  const create = (order: Order, lines: { lineNo: number; quantity: number }[], requestId = "r1") =>
    decide(order, { kind: "CREATE_SHIPMENT", requestId, lines, shippingInfo: undefined }, meta);

  it("the first parcel starts fulfilment: CONFIRMED → PROCESSING in the same change", () => {
    const order = twoLines("CONFIRMED");
    const d = decided(create(order, [{ lineNo: 1, quantity: 2 }]));
    expect(d.order.status).toBe("PROCESSING");
    expect(d.changes.map((c) => [c.from, c.to, c.reason])).toEqual([["CONFIRMED", "PROCESSING", "fulfilment started"]]);
    expect(d.events.map((e) => [e.kind, e.order.version])).toEqual([["SHIPMENT", order.version + 1]]);
    expect(d.order.shipments).toEqual([
      { id: shipmentIdFor(order.id, "r1"), requestId: "r1", status: "PENDING", lines: [{ lineNo: 1, quantity: 2 }], shippingInfo: undefined, createTime: T1, shipTime: undefined, deliverTime: undefined },
    ]);
  });

  it("never puts more of a line in parcels than ordered; a cancelled parcel frees its units", () => {
    const order = twoLines("PROCESSING", [parcel("a", "SHIPPED", [{ lineNo: 1, quantity: 1 }]), parcel("b", "CANCELLED", [{ lineNo: 2, quantity: 1 }])]);
    const err = refused(create(order, [{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 2 }]));
    expect(err.reason).toBe("SHIPMENT_EXCEEDS_ORDERED");
    expect(err.options.preconditionViolations?.map((v) => [v.subject, v.description])).toEqual([
      [`orders/${order.id}/lines/1`, "1 unit left to ship"],
      [`orders/${order.id}/lines/2`, "1 unit left to ship"],
    ]);
    expect(decided(create(order, [{ lineNo: 1, quantity: 1 }, { lineNo: 2, quantity: 1 }])).changed).toBe(true);
  });

  it("refuses unknown and repeated lines, and orders not being fulfilled", () => {
    expect(refused(create(twoLines("PROCESSING"), [{ lineNo: 3, quantity: 1 }])).reason).toBe("LINE_NOT_FOUND");
    expect(refused(create(twoLines("PROCESSING"), [{ lineNo: 1, quantity: 1 }, { lineNo: 1, quantity: 1 }])).kind).toBe("INVALID_ARGUMENT");
    for (const status of ["PENDING", "SHIPPED", "DELIVERED", "CANCELLED"] as const) {
      expect(refused(create(twoLines(status), [{ lineNo: 1, quantity: 1 }])).reason, status).toBe("ILLEGAL_TRANSITION");
    }
  });

  it("a repeat changes nothing; its request id with other lines is IDEMPOTENCY_KEY_REUSED", () => {
    const first = decided(create(twoLines("CONFIRMED"), [{ lineNo: 1, quantity: 1 }])).order;
    expect(decided(create(first, [{ lineNo: 1, quantity: 1 }])).changed).toBe(false);
    expect(refused(create(first, [{ lineNo: 1, quantity: 2 }])).reason).toBe("IDEMPOTENCY_KEY_REUSED");
  });
});

describe("the order follows its parcels", () => {
  const set = (order: Order, id: string, to: ShipmentStatus) =>
    decided(decide(order, { kind: "SET_SHIPMENT_STATUS", shipmentId: id, to, shippingInfo: undefined, reason: "" }, meta)).order;

  it("SHIPPED once every unit is shipped, DELIVERED once every unit is delivered", () => {
    let o = twoLines("PROCESSING", [parcel("a", "PENDING", [{ lineNo: 1, quantity: 2 }]), parcel("b", "PENDING", [{ lineNo: 2, quantity: 1 }])]);
    o = set(o, "a", "SHIPPED");
    expect([o.status, o.shippingInfo]).toEqual(["PROCESSING", info]);
    o = set(o, "b", "SHIPPED");
    expect(o.status).toBe("SHIPPED");
    o = set(o, "a", "DELIVERED");
    expect(o.status).toBe("SHIPPED");
    o = set(o, "b", "DELIVERED");
    expect(o.status).toBe("DELIVERED");
    expect(o.history.slice(-2).map((c) => c.to)).toEqual(["SHIPPED", "DELIVERED"]);
  });

  it("a parcel needs shipping info to leave", () => {
    const o = twoLines("PROCESSING", [parcel("a", "PENDING", [{ lineNo: 1, quantity: 2 }], false)]);
    expect(refused(decide(o, { kind: "SET_SHIPMENT_STATUS", shipmentId: "a", to: "SHIPPED", shippingInfo: undefined, reason: "" }, meta)).reason).toBe(
      "SHIPPING_INFO_REQUIRED",
    );
    const unknown = decide(o, { kind: "SET_SHIPMENT_STATUS", shipmentId: "zz", to: "SHIPPED", shippingInfo: info, reason: "" }, meta);
    expect(refused(unknown).reason).toBe("SHIPMENT_NOT_FOUND");
  });

  it("cancelling cancels the PENDING parcels, and is refused once one has left", () => {
    const pending = twoLines("PROCESSING", [parcel("a", "PENDING", [{ lineNo: 1, quantity: 2 }])]);
    const cancelled = decided(decide(pending, { kind: "SET_STATUS", to: "CANCELLED", reason: "" }, meta)).order;
    expect(cancelled.shipments.map((s) => s.status)).toEqual(["CANCELLED"]);
    const left = twoLines("PROCESSING", [parcel("a", "SHIPPED", [{ lineNo: 1, quantity: 2 }])]);
    expect(refused(decide(left, { kind: "SET_STATUS", to: "CANCELLED", reason: "" }, meta)).reason).toBe("ORDER_PARTIALLY_SHIPPED");
    expect(refused(decide(left, { kind: "DELETE", reason: "" }, meta)).reason).toBe("ORDER_PARTIALLY_SHIPPED");
  });
});

describe("the one-shipment shortcut (UpdateOrderStatus)", () => {
  it("SHIPPED ships the PENDING parcels and puts the rest in a new one with the order's shipping info; DELIVERED delivers them", () => {
    const own = { carrier: "DHL", trackingNumber: "JD1" };
    const o = { ...twoLines("PROCESSING", [{ ...parcel("a", "PENDING", [{ lineNo: 1, quantity: 1 }]), shippingInfo: own }]), shippingInfo: info };
    const shipped = decided(decide(o, { kind: "SET_STATUS", to: "SHIPPED", reason: "" }, meta)).order;
    expect(shipped.shipments.map((s) => [s.status, s.lines, s.shippingInfo])).toEqual([
      ["SHIPPED", [{ lineNo: 1, quantity: 1 }], own],
      ["SHIPPED", [{ lineNo: 1, quantity: 1 }, { lineNo: 2, quantity: 1 }], info],
    ]);
    expect(fulfilmentStatusOf([2, 1], shipped.shipments)).toBe("SHIPPED");
    const delivered = decided(decide(shipped, { kind: "SET_STATUS", to: "DELIVERED", reason: "" }, meta)).order;
    expect(delivered.shipments.map((s) => s.status)).toEqual(["DELIVERED", "DELIVERED"]);
  });

  it("SHIPPED without shipping info for the units it must put in a parcel is SHIPPING_INFO_REQUIRED", () => {
    expect(refused(decide(twoLines("PROCESSING"), { kind: "SET_STATUS", to: "SHIPPED", reason: "" }, meta)).reason).toBe("SHIPPING_INFO_REQUIRED");
  });
});

describe("CancelUnshipped", () => {
  const cancelRest = (order: Order) => decide(order, { kind: "CANCEL_UNSHIPPED", reason: "out of stock" }, meta);

  it("cancels the PENDING parcels and the units in none that left; the order is SHIPPED; the refund due is the cancelled units' value", () => {
    // 2 + 1 units at 100 each; one unit of line 1 has left; a PENDING parcel holds line 2.
    const order = {
      ...twoLines("PROCESSING", [parcel("a", "SHIPPED", [{ lineNo: 1, quantity: 1 }]), parcel("b", "PENDING", [{ lineNo: 2, quantity: 1 }])]),
      payment: { status: "CAPTURED" as const, authorizedMinor: 300n, capturedMinor: 300n, refundedMinor: 0n, refundPendingMinor: 0n },
    };
    const d = decided(cancelRest(order));
    expect(d.events.map((e) => [e.kind, e.order.version])).toEqual([
      ["UNSHIPPED_CANCELLED", order.version + 1],
      ["REFUND_DUE", order.version + 2],
    ]);
    const after = d.order;
    expect(after.status).toBe("SHIPPED");
    expect(after.shipments.map((s) => s.status)).toEqual(["SHIPPED", "CANCELLED"]);
    expect(after.restocks).toEqual([
      { id: `cancelled-rest-v${order.version + 1}`, kind: "CANCELLED_REST", lines: [{ lineNo: 1, quantity: 1 }, { lineNo: 2, quantity: 1 }], state: "PENDING", createTime: T1 },
    ]);
    expect(after.payment.refundPendingMinor).toBe(200n);
    expect(d.changes.map((c) => [c.from, c.to])).toEqual([["PROCESSING", "SHIPPED"]]);
    // What is still ordered has all left: fulfilment SHIPPED, and nothing more can be put in a parcel.
    expect(fulfilmentStatusOf([1, 0], after.shipments)).toBe("SHIPPED");
    const more = decide(after, { kind: "CREATE_SHIPMENT", requestId: "late", lines: [{ lineNo: 2, quantity: 1 }], shippingInfo: undefined }, meta);
    expect(refused(more).reason).toBe("ILLEGAL_TRANSITION");
    // Again: nothing left to cancel.
    expect(decided(cancelRest(after)).changed).toBe(false);
  });

  it("the refund due is capped by what is captured and not yet refunded or owed", () => {
    const order = {
      ...twoLines("PROCESSING", [parcel("a", "SHIPPED", [{ lineNo: 1, quantity: 2 }])]),
      payment: { status: "PARTIALLY_CAPTURED" as const, authorizedMinor: 300n, capturedMinor: 250n, refundedMinor: 0n, refundPendingMinor: 200n },
    };
    const d = decided(cancelRest(order));
    expect(d.events.map((e) => e.kind)).toEqual(["UNSHIPPED_CANCELLED", "REFUND_DUE"]);
    expect(d.order.payment.refundPendingMinor).toBe(250n);
  });

  it("with nothing shipped it is a whole cancellation; with everything delivered that is still ordered, DELIVERED", () => {
    const nothingLeft = decided(cancelRest(twoLines("CONFIRMED")));
    expect([nothingLeft.order.status, nothingLeft.order.reservationState, nothingLeft.order.restocks]).toEqual(["CANCELLED", "RELEASE_PENDING", []]);
    const delivered = decided(cancelRest(twoLines("PROCESSING", [parcel("a", "DELIVERED", [{ lineNo: 1, quantity: 2 }])])));
    expect(delivered.order.status).toBe("DELIVERED");
    expect(delivered.changes.map((c) => c.to)).toEqual(["SHIPPED", "DELIVERED"]);
  });
});
