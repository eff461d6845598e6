import { describe, expect, it } from "vitest";
import { money } from "../../../src/inventory/domain/money.js";
import { applyProductPatch, available, checkStockOnHand, newProduct } from "../../../src/inventory/domain/product.js";

const t0 = new Date("2030-01-01T00:00:00Z");
const t1 = new Date("2030-01-02T00:00:00Z");
const base = newProduct(
  "aaaaaaaa-0000-4000-8000-000000000001",
  { sku: "MUG-1", name: "Mug", description: "d", unitPrice: money("USD", 1200n), initialStock: 10n },
  t0,
);

describe("product", () => {
  it("starts with nothing reserved, all stock available", () => {
    expect(base).toMatchObject({ stockOnHand: 10n, reserved: 0n, createTime: t0, updateTime: t0 });
    expect(available({ stockOnHand: 10n, reserved: 4n })).toBe(6n);
  });

  it("a patch changes only the fields it sets and moves update_time", () => {
    const next = applyProductPatch(base, { name: "Big mug", unitPrice: money("EUR", 900n) }, t1);
    expect(next).toEqual({ ...base, name: "Big mug", unitPrice: money("EUR", 900n), updateTime: t1 });
  });

  it("an empty or no-op patch returns the product itself", () => {
    expect(applyProductPatch(base, {}, t1)).toBe(base);
    expect(applyProductPatch(base, { sku: "MUG-1", unitPrice: money("USD", 1200n) }, t1)).toBe(base);
  });

  it("update_time never goes backwards", () => {
    expect(applyProductPatch({ ...base, updateTime: t1 }, { name: "x" }, t0).updateTime).toEqual(t1);
  });

  it("stock on hand may not drop below what is reserved", () => {
    const p = { id: base.id, reserved: 5n };
    expect(() => checkStockOnHand(p, 5n)).not.toThrow();
    expect(() => checkStockOnHand(p, 4n)).toThrow(expect.objectContaining({ reason: "STOCK_BELOW_RESERVED" }));
  });
});
