import { describe, expect, it } from "vitest";
import { ALONE, batched } from "../../../src/platform/batches.js";

/** A batcher over numbers whose runs are recorded; `batch` answers n * 10 unless told otherwise. */
function recorder(o: { max?: number; keyOf?: (n: number) => string; answer?: (n: number) => number | typeof ALONE; throwOn?: number } = {}) {
  const runs: string[] = [];
  const errors: number[] = [];
  const call = batched<number, number>(
    async (items) => {
      runs.push(`batch ${items.join(",")}`);
      await new Promise((r) => setTimeout(r, 5));
      if (o.throwOn !== undefined && items.includes(o.throwOn)) throw new Error("boom");
      return items.map((n) => (o.answer ? o.answer(n) : n * 10));
    },
    async (n) => {
      runs.push(`alone ${n}`);
      await new Promise((r) => setTimeout(r, 5));
      if (n < 0) throw new Error(`negative ${n}`);
      return n * 100;
    },
    { max: o.max ?? 10, keyOf: o.keyOf, onBatchError: (_, size) => errors.push(size) },
  );
  return { call, runs, errors };
}

describe("batched", () => {
  it("runs a lone call alone, at once", async () => {
    const r = recorder();
    expect(await r.call(1)).toBe(100);
    expect(r.runs).toEqual(["alone 1"]);
  });

  it("groups what arrives while a run is in flight, up to max", async () => {
    const r = recorder({ max: 3 });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => r.call(n)));
    expect(r.runs).toEqual(["alone 1", "batch 2,3,4", "batch 5,6"]);
    expect(results).toEqual([100, 20, 30, 40, 50, 60]);
  });

  it("runs the members a batch could not settle alone, in arrival order, before the next batch", async () => {
    const r = recorder({ answer: (n) => (n % 2 === 0 ? ALONE : n * 10) });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => r.call(n)));
    const next = await Promise.all([6, 7].map((n) => r.call(n)));
    expect(results).toEqual([100, 200, 30, 400, 50]);
    expect(next).toEqual([600, 700]);
    expect(r.runs).toEqual(["alone 1", "batch 2,3,4,5", "alone 2", "alone 4", "alone 6", "alone 7"]);
  });

  it("when a batch throws, every member runs alone and the error is reported", async () => {
    const r = recorder({ throwOn: 3 });
    const results = await Promise.all([1, 2, 3].map((n) => r.call(n)));
    expect(results).toEqual([100, 200, 300]);
    expect(r.errors).toEqual([2]);
  });

  it("a member's own failure reaches only that member", async () => {
    const r = recorder({ answer: () => ALONE });
    const results = await Promise.allSettled([1, -2, 3].map((n) => r.call(n)));
    expect(results.map((x) => x.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("never puts two items of one key in a batch", async () => {
    const r = recorder({ keyOf: (n) => String(n % 10) });
    await Promise.all([1, 2, 12, 3, 22].map((n) => r.call(n)));
    expect(r.runs.slice(0, 2)).toEqual(["alone 1", "batch 2,3"]);
    for (const run of r.runs.filter((x) => x.startsWith("batch"))) {
      const keys = run.slice(6).split(",").map((n) => Number(n) % 10);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});
