/**
 * Returns in the domain (domain/returns.ts, transition.ts): the return
 * table, enumerated and printed in the README; never more of a line in
 * returns than delivered; the customer's window; RECEIVED makes a restock and
 * a refund due from the lines' prices as ordered.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Shipment } from "../../../src/orders/domain/fulfilment.js";
import type { Order } from "../../../src/orders/domain/order.js";
import { RETURN_STATUSES, RETURN_TRANSITIONS, returnIdFor, returnTableMarkdown, type Return, type ReturnStatus } from "../../../src/orders/domain/returns.js";
import { decide } from "../../../src/orders/domain/transition.js";
import { decided, orderFixture, refused, T0, T1 } from "./order-fixture.js";

const meta = { at: T1, actor: "staff:s" };
const unit = (amountMinor: bigint) => ({ currency: "EUR", amountMinor });
const line = (quantity: number, price: bigint) => ({ productId: `p${price}`, variantId: "", quantity, unitPrice: unit(price), lineTotal: unit(price * BigInt(quantity)) });
const delivered = (lines: { lineNo: number; quantity: number }[], at = T0): Shipment => ({
  id: "s",
  requestId: "s",
  status: "DELIVERED",
  lines,
  shippingInfo: { carrier: "UPS", trackingNumber: "1" },
  createTime: at,
  shipTime: at,
  deliverTime: at,
});
/** Two lines: 2 units at 100, 1 at 250; everything delivered at T0. */
const order = (returns: Return[] = [], extra: Partial<Order> = {}) =>
  orderFixture("DELIVERED", {
    lines: [line(2, 100n), line(1, 250n)],
    shipments: [delivered([{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 1 }])],
    returns,
    ...extra,
  });
const ret = (id: string, status: ReturnStatus, lines: { lineNo: number; quantity: number }[]): Return => ({
  id,
  requestId: id,
  status,
  lines,
  reason: "",
  refundMinor: undefined,
  createTime: T0,
  updateTime: T0,
});
const request = (o: Order, lines: { lineNo: number; quantity: number }[], windowDays?: number, requestId = "r1") =>
  decide(o, { kind: "REQUEST_RETURN", requestId, lines, reason: "broken", windowDays }, meta);

describe("the return table", () => {
  it.each(RETURN_STATUSES.flatMap((from) => RETURN_STATUSES.map((to) => [from, to] as const)))("%s → %s", (from, to) => {
    const out = decide(order([ret("a", from, [{ lineNo: 1, quantity: 1 }])]), { kind: "SET_RETURN_STATUS", returnId: "a", to, reason: "" }, meta);
    if (from === to) expect(decided(out).changed).toBe(false);
    else if (RETURN_TRANSITIONS[from].includes(to)) expect(decided(out).order.returns[0]!.status).toBe(to);
    else expect(refused(out).reason).toBe("ILLEGAL_RETURN_TRANSITION");
  });

  it("is README's return table", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    expect(/<!-- returns:start -->\n([\s\S]*?)\n<!-- returns:end -->/.exec(readme)?.[1]).toBe(returnTableMarkdown());
  });
});

describe("RequestReturn", () => {
  it("opens a REQUESTED return of delivered units, as its own change", () => {
    const o = order();
    const d = decided(request(o, [{ lineNo: 2, quantity: 1 }]));
    expect(d.order.returns).toEqual([{ id: returnIdFor(o.id, "r1"), requestId: "r1", status: "REQUESTED", lines: [{ lineNo: 2, quantity: 1 }], reason: "broken", refundMinor: undefined, createTime: T1, updateTime: T1 }]);
    expect(d.events.map((e) => [e.kind, e.order.version])).toEqual([["RETURN", o.version + 1]]);
    // A repeat changes nothing; its request id with other lines is refused.
    expect(decided(request(d.order, [{ lineNo: 2, quantity: 1 }])).changed).toBe(false);
    expect(refused(request(d.order, [{ lineNo: 1, quantity: 1 }])).reason).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("never takes back more than was delivered; a rejected return frees its units; undelivered units cannot be returned", () => {
    const o = order([ret("a", "RECEIVED", [{ lineNo: 1, quantity: 1 }]), ret("b", "REJECTED", [{ lineNo: 1, quantity: 1 }])]);
    const err = refused(request(o, [{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 2 }]));
    expect(err.reason).toBe("RETURN_EXCEEDS_DELIVERED");
    expect(err.options.preconditionViolations?.map((v) => [v.subject, v.description])).toEqual([
      [`orders/${o.id}/lines/1`, "1 unit can be returned"],
      [`orders/${o.id}/lines/2`, "1 unit can be returned"],
    ]);
    expect(decided(request(o, [{ lineNo: 1, quantity: 1 }])).changed).toBe(true);
    const shippedOnly = order([], { status: "SHIPPED", shipments: [{ ...delivered([{ lineNo: 1, quantity: 2 }]), status: "SHIPPED", deliverTime: undefined }] });
    expect(refused(request(shippedOnly, [{ lineNo: 1, quantity: 1 }])).reason).toBe("RETURN_EXCEEDS_DELIVERED");
    expect(refused(request(o, [{ lineNo: 3, quantity: 1 }])).reason).toBe("LINE_NOT_FOUND");
  });

  it("holds a customer to the window after the last delivery; staff are not", () => {
    const days = (T1.getTime() - T0.getTime()) / 86_400_000; // T1 is an hour after T0
    expect(decided(request(order(), [{ lineNo: 1, quantity: 1 }], 1)).changed).toBe(true);
    const old = order([], { shipments: [delivered([{ lineNo: 1, quantity: 2 }, { lineNo: 2, quantity: 1 }], new Date(T1.getTime() - 31 * 86_400_000))] });
    expect(refused(request(old, [{ lineNo: 1, quantity: 1 }], 30)).reason).toBe("RETURN_WINDOW_CLOSED");
    expect(decided(request(old, [{ lineNo: 1, quantity: 1 }], undefined)).changed).toBe(true);
    expect(days).toBeLessThan(1);
  });
});

describe("receiving a return", () => {
  it("restocks its units and owes their price as ordered, capped by what is captured and not refunded or owed", () => {
    const paid = { status: "CAPTURED" as const, authorizedMinor: 450n, capturedMinor: 450n, refundedMinor: 0n, refundPendingMinor: 0n };
    const o = order([ret("a", "APPROVED", [{ lineNo: 1, quantity: 1 }, { lineNo: 2, quantity: 1 }])], { payment: paid });
    const d = decided(decide(o, { kind: "SET_RETURN_STATUS", returnId: "a", to: "RECEIVED", reason: "arrived" }, meta));
    expect(d.events.map((e) => e.kind)).toEqual(["RETURN", "REFUND_DUE"]);
    expect(d.order.returns[0]).toMatchObject({ status: "RECEIVED", refundMinor: 350n });
    expect(d.order.restocks).toEqual([{ id: "return-a", kind: "RETURN", lines: [{ lineNo: 1, quantity: 1 }, { lineNo: 2, quantity: 1 }], state: "PENDING", createTime: T1 }]);
    expect(d.order.payment.refundPendingMinor).toBe(350n);
    // Unpaid: the return is received, nothing falls due.
    const unpaid = decided(decide({ ...o, payment: { ...paid, status: "PENDING", authorizedMinor: 0n, capturedMinor: 0n } }, { kind: "SET_RETURN_STATUS", returnId: "a", to: "RECEIVED", reason: "" }, meta));
    expect(unpaid.events.map((e) => e.kind)).toEqual(["RETURN"]);
  });
});
