import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INT64_MAX, singleCurrency, sum, times } from "../../../src/orders/domain/money.js";
import { buildOrder } from "../../../src/orders/domain/new-order.js";
import { domainThrown } from "../../support/rpc-errors.js";

const eur = (n: bigint) => ({ currency: "EUR", amountMinor: n });

describe("money", () => {
  it("multiplies and sums exactly beyond 2^53", () => {
    const big = eur(9_007_199_254_740_993n);
    expect(times(big, 3).amountMinor).toBe(27_021_597_764_222_979n);
    expect(sum("EUR", [big, eur(7n)]).amountMinor).toBe(9_007_199_254_741_000n);
  });

  it("refuses a quantity that is not an integer", () => {
    expect(() => times(eur(1n), 1.5)).toThrow(RangeError);
  });

  it("finds the one currency, or fails MIXED_CURRENCIES naming each odd item", () => {
    expect(singleCurrency([{ subject: "a", price: eur(1n) }, { subject: "b", price: eur(2n) }])).toBe("EUR");
    const err = domainThrown(() =>
      singleCurrency([
        { subject: "products/a", price: eur(1n) },
        { subject: "products/b", price: { currency: "USD", amountMinor: 1n } },
        { subject: "products/c", price: { currency: "GBP", amountMinor: 1n } },
      ]),
    );
    expect(err.kind).toBe("FAILED_PRECONDITION");
    expect(err.reason).toBe("MIXED_CURRENCIES");
    expect(err.options.preconditionViolations?.map((v) => v.subject)).toEqual(["products/b", "products/c"]);
  });

  it("sum refuses an amount in another currency", () => {
    expect(domainThrown(() => sum("EUR", [eur(1n), { currency: "USD", amountMinor: 1n }])).reason).toBe("MIXED_CURRENCIES");
  });
});

describe("order totals", () => {
  const product = fc.constantFrom("a", "b", "c", "d").map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
  const items = fc.array(
    fc.record({ productId: product, variantId: fc.string({ maxLength: 3 }), quantity: fc.integer({ min: 1, max: 10_000 }) }),
    { minLength: 1, maxLength: 20 },
  );
  const prices = fc.array(fc.bigInt({ min: 0n, max: 10n ** 15n }), { minLength: 4, maxLength: 4 });

  it("total = Σ unit price × quantity, every line in the order's currency; past int64, AMOUNT_OUT_OF_RANGE", () => {
    fc.assert(
      fc.property(items, prices, (its, ps) => {
        const priceOf = new Map(["a", "b", "c", "d"].map((c, i) => [`${c.repeat(8)}-0000-4000-8000-000000000000`, eur(ps[i])]));
        const build = () =>
          buildOrder({ customerId: "c", requestId: "r", items: its, shippingAddress: undefined }, priceOf, {
            id: "o",
            reservationId: "r",
            at: new Date(0),
            actor: "",
          });
        const lineTotals = its.map((it) => priceOf.get(it.productId)!.amountMinor * BigInt(it.quantity));
        const expected = lineTotals.reduce((a, b) => a + b, 0n);
        if (expected > INT64_MAX) {
          expect(domainThrown(build).reason).toBe("AMOUNT_OUT_OF_RANGE");
          return;
        }
        const order = build();
        expect(order.lines.map((l) => l.lineTotal.amountMinor)).toEqual(lineTotals);
        expect(order.total).toEqual(eur(expected));
      }),
    );
  });

  it("refuses a line or a total past int64 with AMOUNT_OUT_OF_RANGE naming it", () => {
    const line = domainThrown(() => times(eur(INT64_MAX), 2, "products/x"));
    expect([line.kind, line.reason, line.options.preconditionViolations?.[0]?.subject]).toEqual([
      "FAILED_PRECONDITION",
      "AMOUNT_OUT_OF_RANGE",
      "products/x",
    ]);
    expect(times(eur(INT64_MAX), 1).amountMinor).toBe(INT64_MAX);
    const total = domainThrown(() => sum("EUR", [eur(INT64_MAX), eur(1n)]));
    expect([total.reason, total.options.preconditionViolations?.[0]?.subject]).toEqual(["AMOUNT_OUT_OF_RANGE", "total"]);
  });
});
