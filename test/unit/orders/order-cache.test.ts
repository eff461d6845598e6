import { describe, expect, it } from "vitest";
import type { Order } from "../../../src/orders/domain/order.js";
import { ConfigError, loadConfig } from "../../../src/config.js";
import { cachedFindById, createOrderCache } from "../../../src/orders/infra/order-cache.js";
import { orderFixture } from "./order-fixture.js";

const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const order = (n: number, version = 1): Order => orderFixture("CONFIRMED", { id: idOf(n), version });

/** A fake repository: `rows` is the database; counts reads; `gate` holds the next read open. */
function fakeRepo(rows: Map<string, Order>) {
  const repo = {
    reads: 0,
    gate: undefined as Promise<void> | undefined,
    async findById(id: string, opts?: { includeDeleted?: boolean }) {
      repo.reads++;
      const row = rows.get(id.toLowerCase());
      const gate = repo.gate;
      await gate;
      return row && (!row.deleted || opts?.includeDeleted) ? row : undefined;
    },
  };
  return repo;
}

function deferred() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function setup(max = 10) {
  const rows = new Map<string, Order>([[idOf(1), order(1)], [idOf(2), order(2)], [idOf(3), order(3)]]);
  const repo = fakeRepo(rows);
  const cache = createOrderCache(max);
  cache.reset(true); // as the change listener does once it listens
  return { rows, repo, cache, reads: cachedFindById(repo, cache) };
}

describe("order read cache", () => {
  it("serves a hit without reading, the same object each time", async () => {
    const { repo, reads } = setup();
    const first = await reads.findById(idOf(1));
    const second = await reads.findById(idOf(1));
    expect(second).toBe(first);
    expect(repo.reads).toBe(1);
  });

  it("keys upper-case ids like the lower-case ones the database notifies", async () => {
    const { repo, cache, reads, rows } = setup();
    await reads.findById(idOf(1).toUpperCase());
    await reads.findById(idOf(1));
    expect(repo.reads).toBe(1);
    rows.set(idOf(1), order(1, 2));
    cache.invalidate(idOf(1));
    expect((await reads.findById(idOf(1).toUpperCase()))?.version).toBe(2);
  });

  it("misses after an eviction and reads the new version", async () => {
    const { repo, cache, reads, rows } = setup();
    await reads.findById(idOf(1));
    rows.set(idOf(1), order(1, 2));
    cache.invalidate(idOf(1));
    expect((await reads.findById(idOf(1)))?.version).toBe(2);
    expect(repo.reads).toBe(2);
  });

  it("does not cache unknown or deleted orders: they stay NOT_FOUND", async () => {
    const { repo, cache, reads, rows } = setup();
    expect(await reads.findById(idOf(9))).toBeUndefined();
    expect(await reads.findById(idOf(9))).toBeUndefined();
    expect(repo.reads).toBe(2);
    await reads.findById(idOf(1));
    rows.set(idOf(1), { ...order(1, 2), deleted: true });
    cache.invalidate(idOf(1));
    expect(await reads.findById(idOf(1))).toBeUndefined();
    expect(await reads.findById(idOf(1))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("never caches a PENDING order: its confirm may come from a process that does not notify", async () => {
    const { repo, reads, rows, cache } = setup();
    rows.set(idOf(1), { ...order(1, 1), status: "PENDING", reservationState: "PENDING" });
    await reads.findById(idOf(1));
    rows.set(idOf(1), order(1, 2)); // confirmed elsewhere, no invalidation reaches this cache
    expect((await reads.findById(idOf(1)))?.status).toBe("CONFIRMED");
    expect(repo.reads).toBe(2);
    expect(cache.size).toBe(1);
  });

  it("reads of deleted orders (includeDeleted) bypass the cache", async () => {
    const { repo, reads } = setup();
    await reads.findById(idOf(1), { includeDeleted: true });
    await reads.findById(idOf(1), { includeDeleted: true });
    expect(repo.reads).toBe(2);
  });

  it("evicts the least recently used order beyond its size", async () => {
    const { repo, cache, reads } = setup(2);
    await reads.findById(idOf(1));
    await reads.findById(idOf(2));
    await reads.findById(idOf(1)); // 1 is now the most recent
    await reads.findById(idOf(3)); // evicts 2
    expect(cache.size).toBe(2);
    expect(repo.reads).toBe(3);
    await reads.findById(idOf(1));
    expect(repo.reads).toBe(3);
    await reads.findById(idOf(2));
    expect(repo.reads).toBe(4);
  });

  it("does not store a read that raced an invalidation of its id", async () => {
    const { repo, cache, reads, rows } = setup();
    const gate = deferred();
    repo.gate = gate.promise;
    const stale = reads.findById(idOf(1)); // reads version 1 ...
    repo.gate = undefined;
    rows.set(idOf(1), order(1, 2)); // ... a commit lands ...
    cache.invalidate(idOf(1)); // ... and evicts, before the read returns
    gate.open();
    expect((await stale)?.version).toBe(1); // the caller gets what it read
    expect(cache.size).toBe(0); // but it is not kept
    expect((await reads.findById(idOf(1)))?.version).toBe(2);
  });

  it("still stores a read begun after the invalidation, and races on other ids do not matter", async () => {
    const { repo, cache, reads } = setup();
    const gate = deferred();
    repo.gate = gate.promise;
    const racing = reads.findById(idOf(1));
    repo.gate = undefined;
    cache.invalidate(idOf(1));
    const after = reads.findById(idOf(1));
    cache.invalidate(idOf(3));
    const other = reads.findById(idOf(2));
    await after;
    await other;
    gate.open();
    await racing;
    expect(cache.size).toBe(2);
    const n = repo.reads;
    await reads.findById(idOf(1));
    await reads.findById(idOf(2));
    expect(repo.reads).toBe(n);
  });

  it("reset drops everything and refuses reads begun before it; disabled, it caches nothing", async () => {
    const { repo, cache, reads } = setup();
    await reads.findById(idOf(1));
    const gate = deferred();
    repo.gate = gate.promise;
    const racing = reads.findById(idOf(2));
    repo.gate = undefined;
    cache.reset(false); // the listener is lost
    expect(cache.size).toBe(0);
    gate.open();
    await racing;
    await reads.findById(idOf(1));
    await reads.findById(idOf(1));
    expect(cache.size).toBe(0);
    expect(cache.enabled).toBe(false);
    cache.reset(true); // listening again
    await reads.findById(idOf(1));
    await reads.findById(idOf(1));
    expect(cache.size).toBe(1);
  });

  it("starts disabled (until the listener is up) and size 0 never caches", async () => {
    const rows = new Map([[idOf(1), order(1)]]);
    const fresh = createOrderCache(10);
    const repo = fakeRepo(rows);
    await cachedFindById(repo, fresh).findById(idOf(1));
    expect(fresh.size).toBe(0);
    const off = createOrderCache(0);
    off.reset(true);
    await cachedFindById(repo, off).findById(idOf(1));
    expect(off.size).toBe(0);
    expect(off.enabled).toBe(false);
  });

  it("an unrecognisable id spelling bypasses the cache, and invalidating one drops everything", async () => {
    const { repo, cache, reads } = setup();
    await reads.findById(idOf(1));
    const braces = `{${idOf(2)}}`;
    await reads.findById(braces);
    await reads.findById(braces);
    expect(repo.reads).toBe(3);
    cache.invalidate(braces);
    expect(cache.size).toBe(0);
  });
});

describe("ORDER_CACHE_SIZE", () => {
  it("defaults to 1000, accepts 0 (off), rejects junk", () => {
    expect(loadConfig({}).orderCacheSize).toBe(1000);
    expect(loadConfig({ ORDER_CACHE_SIZE: "0" }).orderCacheSize).toBe(0);
    expect(() => loadConfig({ ORDER_CACHE_SIZE: "-1" })).toThrow(ConfigError);
    expect(() => loadConfig({ ORDER_CACHE_SIZE: "lots" })).toThrow(/ORDER_CACHE_SIZE/);
  });
});
