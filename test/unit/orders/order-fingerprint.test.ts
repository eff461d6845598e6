/**
 * A stored order's fingerprint (orderFingerprint) is the fingerprint of the
 * request that made it: what CreateOrder checks a retry against once
 * retention purged the idempotency record that stored the original.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { money } from "../../../src/orders/domain/money.js";
import { buildOrder, orderFingerprint, requestFingerprint, type NewOrderRequest } from "../../../src/orders/domain/new-order.js";

const P1 = "aaaaaaaa-0000-4000-8000-000000000001";
const P2 = "aaaaaaaa-0000-4000-8000-000000000002";
const address = { recipientName: "Ada", line1: "1 Main St", line2: "", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" };
const req: NewOrderRequest = {
  customerId: "11111111-1111-4111-8111-11111111AAAA",
  requestId: "r-1",
  items: [
    { productId: P1.toUpperCase(), variantId: "red", quantity: 2 },
    { productId: P2, variantId: "", quantity: 1 },
    { productId: P1, variantId: "blue", quantity: 3 },
  ],
  shippingAddress: address,
};
const prices = new Map([
  [P1, money("EUR", 100n)],
  [P2, money("EUR", 250n)],
]);
const built = (r: NewOrderRequest) => buildOrder(r, prices, { id: "o-1", reservationId: "order-o-1", at: new Date(0), actor: "" });

describe("orderFingerprint", () => {
  it("is the fingerprint of the request that made the order, with or without an address", () => {
    expect(orderFingerprint(built(req))).toBe(requestFingerprint(req));
    const noAddress = { ...req, shippingAddress: undefined };
    expect(orderFingerprint(built(noAddress))).toBe(requestFingerprint(noAddress));
  });

  it("differs from any other payload under the same request id", () => {
    const fp = orderFingerprint(built(req));
    expect(requestFingerprint({ ...req, items: [...req.items].reverse() })).not.toBe(fp);
    expect(requestFingerprint({ ...req, items: req.items.map((i, n) => (n === 1 ? { ...i, quantity: 2 } : i)) })).not.toBe(fp);
    expect(requestFingerprint({ ...req, shippingAddress: { ...address, line2: "Flat 2" } })).not.toBe(fp);
    expect(requestFingerprint({ ...req, shippingAddress: undefined })).not.toBe(fp);
  });

  it("covers the customer note only when there is one: fingerprints stored before notes existed stay valid", () => {
    // The canonical form as it was before customer notes: what stored records hold.
    const before = (r: NewOrderRequest) =>
      createHash("sha256")
        .update(
          JSON.stringify({
            c: r.customerId.toLowerCase(),
            i: r.items.map((i) => [i.productId.toLowerCase(), i.variantId, i.quantity]),
            a: r.shippingAddress ? Object.values(r.shippingAddress) : null,
          }),
        )
        .digest("base64url");
    expect(requestFingerprint(req)).toBe(before(req));
    expect(requestFingerprint({ ...req, customerNote: "" })).toBe(before(req));
    const noted = { ...req, customerNote: "leave at the back door" };
    expect(requestFingerprint(noted)).not.toBe(before(req));
    expect(requestFingerprint({ ...noted, customerNote: "ring twice" })).not.toBe(requestFingerprint(noted));
    expect(orderFingerprint(built(noted))).toBe(requestFingerprint(noted));
    expect(orderFingerprint(built(req))).toBe(before(req));
  });
});
