/**
 * The watch hub's bookkeeping, with reads it controls: each read is a
 * promise the test settles, so the races — a change during a read, a
 * watcher joining one, a reconnect during a sweep — happen in a set order.
 */
import { describe, expect, it, vi } from "vitest";
import pino from "pino";
import type { Order } from "../../../src/orders/domain/order.js";
import { createWatchHub, type WatchHub } from "../../../src/orders/infra/watch-hub.js";
import { domainFailure } from "../../support/rpc-errors.js";
import { orderFixture } from "./order-fixture.js";

interface PendingRead {
  readonly orderId: string;
  resolve(o: Order | undefined): void;
  reject(err: unknown): void;
}

function hubWithReads(overrides: { maxPerOwner?: number; maxTotal?: number; pollMs?: number } = {}) {
  const reads: PendingRead[] = [];
  const hub: WatchHub = createWatchHub({
    read: (orderId) => new Promise((resolve, reject) => reads.push({ orderId, resolve, reject })),
    maxPerOwner: overrides.maxPerOwner ?? 100,
    maxTotal: overrides.maxTotal ?? 100,
    pollMs: overrides.pollMs ?? 3_600_000,
    logger: pino({ level: "silent" }),
  });
  /** Settles the oldest unsettled read of `orderId`. */
  const answer = async (orderId: string, o: Order | undefined) => {
    const i = reads.findIndex((r) => r.orderId === orderId);
    if (i < 0) throw new Error(`no read of ${orderId} in flight`);
    reads.splice(i, 1)[0].resolve(o);
    await new Promise((r) => setImmediate(r));
  };
  return { hub, reads, answer };
}

const ID = "11111111-1111-4111-8111-111111111111";
const OTHER = "22222222-2222-4222-8222-222222222222";
const v = (version: number, id = ID) => orderFixture("CONFIRMED", { id, version });

describe("watch hub", () => {
  it("a change during a read queues exactly one more read; a slow watcher skips to the newest version", async () => {
    const { hub, reads, answer } = hubWithReads();
    hub.listening();
    const w = hub.open("customer:a", ID);
    expect(reads).toHaveLength(1);
    hub.changed(ID);
    hub.changed(ID);
    expect(reads).toHaveLength(1); // still the one in flight
    await answer(ID, v(1));
    expect(reads).toHaveLength(1); // the one more
    await answer(ID, v(3));
    expect((await w.next())?.version).toBe(3);
    expect(reads).toHaveLength(0);
    hub.close();
  });

  it("joiners share a read in flight; a fresh snapshot serves one without reading; a local commit makes it stale", async () => {
    const { hub, reads, answer } = hubWithReads();
    hub.listening();
    const a = hub.open("customer:a", ID);
    const b = hub.open("customer:b", ID);
    expect(reads).toHaveLength(1);
    await answer(ID, v(1));
    const c = hub.open("customer:c", ID);
    expect(reads).toHaveLength(0);
    expect((await Promise.all([a.next(), b.next(), c.next()])).map((o) => o?.version)).toEqual([1, 1, 1]);

    hub.committed(ID); // healthy: the notification will read; a joiner meanwhile must not take the old snapshot
    expect(reads).toHaveLength(0);
    const d = hub.open("customer:d", ID);
    expect(reads).toHaveLength(1);
    await answer(ID, v(2));
    expect((await d.next())?.version).toBe(2);
    expect((await a.next())?.version).toBe(2);
    expect(hub.stats()).toMatchObject({ watches: 4, orders: 1, reads: 2 });
    hub.close();
  });

  it("while the listener is down a local commit reads at once; on reconnect every topic is read once, again if it reconnects meanwhile", async () => {
    const { hub, reads, answer } = hubWithReads();
    const a = hub.open("customer:a", ID);
    const b = hub.open("customer:a", OTHER);
    await answer(ID, v(1));
    await answer(OTHER, v(1, OTHER));
    hub.committed(ID); // not healthy yet: read now
    expect(reads.map((r) => r.orderId)).toEqual([ID]);
    await answer(ID, v(2));

    hub.listening();
    expect(reads.map((r) => r.orderId).sort()).toEqual([ID, OTHER].sort());
    hub.lost();
    hub.listening(); // while the first sweep runs: it may have read before this reconnect
    await answer(ID, v(2));
    await answer(OTHER, v(2, OTHER));
    expect(reads.map((r) => r.orderId).sort()).toEqual([ID, OTHER].sort());
    await answer(ID, v(2));
    await answer(OTHER, v(3, OTHER));
    expect(reads).toHaveLength(0);
    // Nobody took a version meanwhile: each watcher is handed only the newest.
    expect((await a.next())?.version).toBe(2);
    expect((await b.next())?.version).toBe(3);
    hub.close();
  });

  it("polls every topic while the listener is down, never while it is up", async () => {
    const { hub, reads, answer } = hubWithReads({ pollMs: 20 });
    hub.open("customer:a", ID);
    await answer(ID, v(1));
    await vi.waitFor(() => expect(reads).toHaveLength(1)); // the poll
    await answer(ID, v(1));
    hub.listening(); // its re-read, then nothing
    await vi.waitFor(() => expect(reads).toHaveLength(1));
    await answer(ID, v(1));
    const readsWhenUp = hub.stats().reads;
    await new Promise((r) => setTimeout(r, 200)); // ten poll intervals, on purpose
    expect(hub.stats().reads).toBe(readsWhenUp);
    hub.close();
  });

  it("a failed first read fails its watchers; a failed later one is retried and the watchers stay", async () => {
    const { hub, reads, answer } = hubWithReads({ pollMs: 10 });
    hub.listening();
    const first = hub.open("customer:a", ID);
    reads.shift()!.reject(new Error("database down"));
    await expect(first.next()).rejects.toThrow("database down");
    first.close();

    const w = hub.open("customer:a", ID);
    await answer(ID, v(1));
    expect((await w.next())?.version).toBe(1);
    hub.changed(ID);
    reads.shift()!.reject(new Error("database down"));
    await vi.waitFor(() => expect(reads).toHaveLength(1)); // the retry
    await answer(ID, v(2));
    expect((await w.next())?.version).toBe(2);
    hub.close();
  });

  it("counts slots per owner and in total, frees each once, and refuses everything after close", async () => {
    const { hub } = hubWithReads({ maxPerOwner: 2, maxTotal: 3 });
    const a1 = hub.open("customer:a", ID);
    hub.open("customer:a", ID);
    expect((await domainFailure((async () => hub.open("customer:a", ID))())).options.metadata).toEqual({ limit: "per_principal", max: "2" });
    hub.open("customer:b", OTHER);
    const total = await domainFailure((async () => hub.open("customer:c", OTHER))());
    expect({ kind: total.kind, reason: total.reason, retry: total.options.retryAfterMs }).toEqual({
      kind: "RESOURCE_EXHAUSTED",
      reason: "WATCH_LIMIT_REACHED",
      retry: 5000,
    });
    a1.close();
    a1.close();
    expect(hub.stats()).toMatchObject({ watches: 2 });
    expect(hub.stats().of("customer:a")).toBe(1);
    const closing = hub.close();
    const shut = await domainFailure((async () => hub.open("customer:d", ID))());
    expect([shut.kind, shut.reason]).toEqual(["UNAVAILABLE", "SHUTTING_DOWN"]);
    await closing; // the two left never let go: close() gives up after its bound
    expect(hub.stats().watches).toBe(2);
  });

  it("a deleted order ends its watchers with undefined", async () => {
    const { hub, answer } = hubWithReads();
    hub.listening();
    const w = hub.open("customer:a", ID);
    await answer(ID, v(1));
    expect((await w.next())?.version).toBe(1);
    hub.changed(ID);
    await answer(ID, undefined);
    expect(await w.next()).toBeUndefined();
    w.close();
    expect(hub.stats()).toMatchObject({ watches: 0, orders: 0 });
    hub.close();
  });
});
