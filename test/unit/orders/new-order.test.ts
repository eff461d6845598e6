import { describe, expect, it } from "vitest";
import {
  buildOrder,
  orderIdFor,
  requestFingerprint,
  reservationIdFor,
  reservationLines,
  type NewOrderRequest,
} from "../../../src/orders/domain/new-order.js";
import { transitionTableMarkdown } from "../../../src/orders/domain/order-status.js";

const P1 = "aaaaaaaa-0000-4000-8000-000000000001";
const P2 = "aaaaaaaa-0000-4000-8000-000000000002";
const req: NewOrderRequest = {
  customerId: "11111111-1111-4111-8111-111111111111",
  requestId: "r-1",
  items: [
    { productId: P1, variantId: "red", quantity: 2 },
    { productId: P2, variantId: "", quantity: 1 },
    { productId: P1.toUpperCase(), variantId: "blue", quantity: 3 },
  ],
  shippingAddress: undefined,
};

describe("order ids", () => {
  it("are deterministic UUIDv5 of (customer, request_id)", () => {
    const id = orderIdFor(req.customerId, req.requestId);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(orderIdFor(req.customerId.toUpperCase(), "r-1")).toBe(id);
    expect(orderIdFor(req.customerId, "r-2")).not.toBe(id);
    expect(orderIdFor("22222222-2222-4222-8222-222222222222", "r-1")).not.toBe(id);
  });

  it("derive reservation ids that inventory accepts", () => {
    const id = orderIdFor(req.customerId, req.requestId);
    expect(reservationIdFor(id, 0)).toBe(`order-${id}`);
    expect(reservationIdFor(id, 2)).toBe(`order-${id}.2`);
    expect(reservationIdFor(id, 4)).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });
});

describe("request fingerprint", () => {
  const fp = requestFingerprint(req);
  it("is stable and sensitive to every client choice", () => {
    expect(requestFingerprint({ ...req, items: [...req.items] })).toBe(fp);
    expect(requestFingerprint({ ...req, items: req.items.slice(1) })).not.toBe(fp);
    expect(requestFingerprint({ ...req, items: [{ ...req.items[0], quantity: 9 }, ...req.items.slice(1)] })).not.toBe(fp);
    expect(requestFingerprint({ ...req, items: [{ ...req.items[0], variantId: "x" }, ...req.items.slice(1)] })).not.toBe(fp);
    const address = { recipientName: "A", line1: "B", line2: "", city: "C", region: "", postalCode: "1", countryCode: "DE" };
    expect(requestFingerprint({ ...req, shippingAddress: address })).not.toBe(fp);
  });
});

describe("building an order", () => {
  it("reserves repeated products as their sum", () => {
    expect(reservationLines(req.items)).toEqual([
      { productId: P1, quantity: 5 },
      { productId: P2, quantity: 1 },
    ]);
  });

  it("prices every line from the reservation and starts PENDING (stock held, not yet sold) with one history entry", () => {
    const prices = new Map([
      [P1, { currency: "EUR", amountMinor: 199n }],
      [P2, { currency: "EUR", amountMinor: 1000n }],
    ]);
    const at = new Date("2024-01-01T00:00:00Z");
    const o = buildOrder(req, prices, { id: "o1", reservationId: "order-o1", at, actor: "bob" });
    expect(o.lines.map((l) => [l.variantId, l.lineTotal.amountMinor])).toEqual([["red", 398n], ["", 1000n], ["blue", 597n]]);
    expect(o.total).toEqual({ currency: "EUR", amountMinor: 1995n });
    expect([o.status, o.reservationState]).toEqual(["PENDING", "PENDING"]);
    expect(o.history).toEqual([{ from: undefined, to: "PENDING", reason: "", actor: "bob", at }]);
    expect(o.reservationState).toBe("PENDING");
  });

  it("fails MIXED_CURRENCIES when inventory prices lines in different currencies", () => {
    const prices = new Map([
      [P1, { currency: "EUR", amountMinor: 1n }],
      [P2, { currency: "USD", amountMinor: 1n }],
    ]);
    expect(() => buildOrder(req, prices, { id: "o", reservationId: "r", at: new Date(), actor: "" })).toThrow(
      expect.objectContaining({ reason: "MIXED_CURRENCIES" }),
    );
  });
});

it("prints the README table from the transition table", () => {
  const md = transitionTableMarkdown();
  expect(md).toContain("| PENDING | CONFIRMED, CANCELLED |");
  expect(md).toContain("| CONFIRMED | PROCESSING, CANCELLED |");
  expect(md).toContain("| SHIPPED | DELIVERED |");
  expect(md).toContain("| CANCELLED | — (final) |");
});
