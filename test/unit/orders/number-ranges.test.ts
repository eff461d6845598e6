/** SearchOrders' number prefix as index ranges (infra/order-search.ts): one range per length, up to 18 digits. */
import { describe, expect, it } from "vitest";
import { MAX_NUMBER_DIGITS, numberRanges } from "../../../src/orders/infra/order-search.js";

describe("numberRanges", () => {
  it("covers every number whose digits start with the prefix, one range per length", () => {
    const ranges = numberRanges("42");
    expect(ranges).toHaveLength(MAX_NUMBER_DIGITS - 1);
    expect(ranges.slice(0, 3)).toEqual([
      [42n, 42n],
      [420n, 429n],
      [4200n, 4299n],
    ]);
    expect(ranges.at(-1)).toEqual([420000000000000000n, 429999999999999999n]);
  });

  it("an 18-digit prefix is one number; the widest range stays within 18 digits (a bigint)", () => {
    expect(numberRanges("123456789012345678")).toEqual([[123456789012345678n, 123456789012345678n]]);
    expect(numberRanges("9").at(-1)).toEqual([900000000000000000n, 999999999999999999n]);
  });

  it("agrees with the digits for every number up to 5 digits", () => {
    const wrong: string[] = [];
    for (const prefix of ["1", "7", "10", "99", "305"]) {
      const ranges = numberRanges(prefix);
      for (let n = 1n; n < 100_000n; n++) {
        if (ranges.some(([lo, hi]) => lo <= n && n <= hi) !== String(n).startsWith(prefix)) wrong.push(`${prefix}: ${n}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
