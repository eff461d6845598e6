import pino from "pino";
import { describe, expect, it } from "vitest";
import { createTierCache, type TierFact } from "../../../src/platform/admission/tier-cache.js";

const logger = pino({ level: "silent" });

function setUp(maxEntries = 10, ttlMs = 1000) {
  let t = 0;
  const calls: string[] = [];
  const answers = new Map<string, (f: TierFact | Error) => void>();
  const cache = createTierCache({
    maxEntries,
    ttlMs,
    logger,
    now: () => t,
    lookup: (id) => {
      calls.push(id);
      return new Promise((resolve, reject) => answers.set(id, (f) => (f instanceof Error ? reject(f) : resolve(f))));
    },
  });
  return { cache, calls, answer: (id: string, f: TierFact | Error) => answers.get(id)!(f), advance: (ms: number) => (t += ms) };
}

describe("tier cache", () => {
  it("looks an unknown customer up once however many calls ask at the same time", async () => {
    const { cache, calls, answer } = setUp();
    const asks = [cache.tierOf("a"), cache.tierOf("a"), cache.tierOf("a")];
    expect(calls).toEqual(["a"]);
    answer("a", { tier: "VIP", version: 1 });
    await expect(Promise.all(asks)).resolves.toEqual(["VIP", "VIP", "VIP"]);
    expect(cache.tierOf("a")).toBe("VIP"); // now synchronous
  });

  it("keeps the newer version: a read that started before an update does not undo it", async () => {
    const { cache, answer } = setUp();
    const slowRead = cache.tierOf("a");
    cache.record("a", { tier: "VIP", version: 2 }); // UpdateCustomer in this process
    answer("a", { tier: "STANDARD", version: 1 });
    await expect(slowRead).resolves.toBe("VIP");
    cache.record("a", { tier: "STANDARD", version: 1 });
    expect(cache.tierOf("a")).toBe("VIP");
    cache.record("a", { tier: "STANDARD", version: 3 });
    expect(cache.tierOf("a")).toBe("STANDARD");
  });

  it("answers a stale entry at once while it refreshes it", async () => {
    const { cache, calls, answer, advance } = setUp();
    cache.record("a", { tier: "VIP", version: 1 });
    advance(1001);
    expect(cache.tierOf("a")).toBe("VIP");
    expect(calls).toEqual(["a"]);
    answer("a", { tier: "STANDARD", version: 2 });
    await new Promise((r) => setImmediate(r));
    expect(cache.tierOf("a")).toBe("STANDARD");
  });

  it("counts a failed lookup as STANDARD, and does not retry it for a while", async () => {
    const { cache, calls, answer, advance } = setUp();
    const ask = cache.tierOf("a");
    answer("a", new Error("customers down"));
    await expect(ask).resolves.toBe("STANDARD");
    expect(cache.tierOf("a")).toBe("STANDARD");
    expect(calls).toEqual(["a"]);
    advance(1001);
    void cache.tierOf("a");
    expect(calls).toEqual(["a", "a"]);
  });

  it("stays within its size", () => {
    const { cache } = setUp(3);
    for (const id of ["a", "b", "c", "d", "e"]) cache.record(id, { tier: "VIP", version: 1 });
    expect(cache.size).toBe(3);
  });
});

describe("tier cache with the VIP roster", () => {
  it("answers every customer at once, with no lookup: VIP when on the roster, else STANDARD", () => {
    const { cache, calls } = setUp();
    expect(cache.hasRoster).toBe(false);
    cache.setRoster([{ id: "v", version: 3 }]);
    expect(cache.hasRoster).toBe(true);
    expect(cache.tierOf("v")).toBe("VIP");
    expect(cache.tierOf("s")).toBe("STANDARD");
    expect(calls).toEqual([]);
  });

  it("lets this process's newer writes win until the roster is reloaded after their TTL", () => {
    const { cache, advance } = setUp(10, 1000);
    cache.setRoster([{ id: "v", version: 3 }]);
    cache.record("v", { tier: "STANDARD", version: 4 }); // demoted here
    cache.record("s", { tier: "VIP", version: 2 }); // promoted here
    expect([cache.tierOf("v"), cache.tierOf("s")]).toEqual(["STANDARD", "VIP"]);
    cache.record("v", { tier: "VIP", version: 2 }); // an older read does not undo the demotion
    expect(cache.tierOf("v")).toBe("STANDARD");
    // Past the TTL the roster decides: here another replica promoted "x" and the reload shows it.
    advance(1001);
    cache.setRoster([{ id: "s", version: 2 }, { id: "x", version: 7 }]);
    expect([cache.tierOf("v"), cache.tierOf("s"), cache.tierOf("x")]).toEqual(["STANDARD", "VIP", "VIP"]);
  });

  it("does not keep a roster larger than its size: tiers are looked up instead", async () => {
    const { cache, calls, answer } = setUp(2);
    cache.setRoster([{ id: "a", version: 1 }, { id: "b", version: 1 }, { id: "c", version: 1 }]);
    expect(cache.hasRoster).toBe(false);
    const tier = cache.tierOf("c");
    expect(calls).toEqual(["c"]);
    answer("c", { tier: "VIP", version: 1 });
    await expect(tier).resolves.toBe("VIP");
  });
});
