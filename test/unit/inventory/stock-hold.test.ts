import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { money } from "../../../src/inventory/domain/money.js";
import { planHold, refusedHold, type StockLevel } from "../../../src/inventory/domain/stock-hold.js";
import { domainThrown } from "../../support/rpc-errors.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const level = (n: number, stockOnHand: bigint, reserved: bigint): StockLevel => ({
  id: id(n),
  stockOnHand,
  reserved,
  unitPrice: money("USD", BigInt(100 * n)),
});

describe("planHold", () => {
  it("prices every line from its product", () => {
    const lines = planHold("r", [{ productId: id(1), quantity: 2 }, { productId: id(2), quantity: 5 }], [
      level(1, 10n, 8n),
      level(2, 5n, 0n),
    ]);
    expect(lines).toEqual([
      { productId: id(1), quantity: 2, unitPrice: money("USD", 100n) },
      { productId: id(2), quantity: 5, unitPrice: money("USD", 200n) },
    ]);
  });

  it("names every unknown product in one NOT_FOUND PRODUCT_NOT_FOUND", () => {
    const e = domainThrown(() =>
      planHold("r", [{ productId: id(1), quantity: 1 }, { productId: id(2), quantity: 1 }, { productId: id(3), quantity: 1 }], [
        level(2, 10n, 0n),
      ]),
    );
    expect([e.kind, e.reason]).toEqual(["NOT_FOUND", "PRODUCT_NOT_FOUND"]);
    expect(e.options.metadata?.productIds).toBe(`${id(1)},${id(3)}`);
  });

  it("fails INSUFFICIENT_STOCK with one violation per short product, naming requested and available", () => {
    const e = domainThrown(() =>
      planHold(
        "r9",
        [{ productId: id(1), quantity: 3 }, { productId: id(2), quantity: 1 }, { productId: id(3), quantity: 7 }],
        [level(1, 10n, 8n), level(2, 1n, 0n), level(3, 6n, 0n)],
      ),
    );
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "INSUFFICIENT_STOCK"]);
    expect(e.options.preconditionViolations).toEqual([
      { type: "INSUFFICIENT_STOCK", subject: `products/${id(1)}`, description: "requested 3, available 2" },
      { type: "INSUFFICIENT_STOCK", subject: `products/${id(3)}`, description: "requested 7, available 6" },
    ]);
    expect(e.options.metadata).toMatchObject({ reservationId: "r9", productIds: `${id(1)},${id(3)}` });
  });

  it("succeeds exactly when every product has the quantity available", () => {
    const arb = fc.array(fc.tuple(fc.nat(20), fc.nat(20), fc.integer({ min: 1, max: 25 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(arb, (specs) => {
        const levels = specs.map(([free, held], i) => level(i + 1, BigInt(free + held), BigInt(held)));
        const lines = specs.map(([, , q], i) => ({ productId: id(i + 1), quantity: q }));
        const fits = specs.every(([free, , q]) => q <= free);
        let ok = true;
        try {
          planHold("r", lines, levels);
        } catch (e) {
          ok = false;
          expect((e as DomainError).options.preconditionViolations).toHaveLength(specs.filter(([f, , q]) => q > f).length);
        }
        expect(ok).toBe(fits);
      }),
    );
  });
});

describe("refusedHold", () => {
  it("throws planHold's error for the stock the refusing statement read", () => {
    const e = domainThrown(() => refusedHold("r", [{ productId: id(1), quantity: 3 }], [level(1, 2n, 0n)]));
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "INSUFFICIENT_STOCK"]);
  });

  it("calls a refusal of lines planHold accepts a bug, not a domain error", () => {
    let thrown: unknown;
    try {
      refusedHold("r", [{ productId: id(1), quantity: 2 }], [level(1, 2n, 0n)]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(DomainError);
    expect(String(thrown)).toMatch(/refused lines planHold accepts/);
  });
});
