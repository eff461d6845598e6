/**
 * The retention pass (platform/retention.ts) over fake tables: batches of at
 * most the batch size until one comes back short, stopped between batches,
 * a window of 0 never purged, counts kept per table; and its settings
 * (config.ts): defaults, bounds, frozen.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/platform/logger.js";
import { createRetention, type PurgeTarget } from "../../../src/platform/retention.js";

const logger = createLogger("silent");
const HOUR = 3_600_000;

/** A table of rows with ages (hours); deleteBatch removes the oldest past the cutoff, at most `limit`. */
function fakeTable(table: string, hours: number, ages: number[], now: Date) {
  let rows = [...ages].sort((a, b) => b - a);
  const calls: { cutoff: Date; limit: number; deleted: number }[] = [];
  const target: PurgeTarget = {
    table,
    hours,
    async deleteBatch(cutoff, limit) {
      const old = rows.filter((age) => now.getTime() - age * HOUR < cutoff.getTime()).slice(0, limit);
      rows = rows.slice(old.length);
      calls.push({ cutoff, limit, deleted: old.length });
      return old.length;
    },
  };
  return { target, calls, left: () => rows };
}

describe("createRetention", () => {
  const now = new Date("2030-01-01T00:00:00Z");

  it("deletes in statements of at most the batch size until one comes back short", async () => {
    const t = fakeTable("t", 24, [...Array(10).fill(48), 23, 1], now);
    const r = createRetention({ what: "test", targets: [t.target], schedule: { intervalMs: 60_000, batchSize: 3 }, logger });
    expect(await r.purge(now)).toEqual({ t: 10 });
    expect(t.calls.map((c) => c.deleted)).toEqual([3, 3, 3, 1]);
    expect(t.calls.every((c) => c.limit === 3 && c.cutoff.getTime() === now.getTime() - 24 * HOUR)).toBe(true);
    expect(t.left()).toEqual([23, 1]);
    expect(r.purged).toEqual({ t: 10 });
  });

  it("asks once more after a full last batch, and counts across passes", async () => {
    const t = fakeTable("t", 1, Array(6).fill(2), now);
    const r = createRetention({ what: "test", targets: [t.target], schedule: { intervalMs: 60_000, batchSize: 3 }, logger });
    expect(await r.purge(now)).toEqual({ t: 6 });
    expect(t.calls.map((c) => c.deleted)).toEqual([3, 3, 0]);
    expect(await r.purge(now)).toEqual({ t: 0 });
    expect(r.purged).toEqual({ t: 6 });
  });

  it("stops between batches when told to, keeping the count of what it deleted", async () => {
    const stop = new AbortController();
    const t = fakeTable("t", 1, Array(10).fill(2), now);
    const counting: PurgeTarget = {
      ...t.target,
      deleteBatch: async (cutoff, limit) => {
        const n = await t.target.deleteBatch(cutoff, limit);
        if (t.calls.length === 2) stop.abort();
        return n;
      },
    };
    const r = createRetention({ what: "test", targets: [counting], schedule: { intervalMs: 60_000, batchSize: 3 }, logger });
    expect(await r.purge(now, stop.signal)).toEqual({ t: 6 });
    expect(t.left()).toHaveLength(4);
    expect(r.purged).toEqual({ t: 6 });
  });

  it("never purges a table whose window is 0, and is off when every window is", async () => {
    const kept = fakeTable("kept", 0, [100_000], now);
    const purged = fakeTable("purged", 1, [2], now);
    const r = createRetention({ what: "test", targets: [kept.target, purged.target], schedule: { intervalMs: 60_000, batchSize: 3 }, logger });
    expect(r.enabled).toBe(true);
    expect(await r.purge(now)).toEqual({ purged: 1 });
    expect(kept.calls).toEqual([]);
    expect(r.purged).toEqual({ purged: 1 });
    const off = createRetention({ what: "test", targets: [kept.target], schedule: { intervalMs: 60_000, batchSize: 3 }, logger });
    expect(off.enabled).toBe(false);
    expect(await off.purge(now)).toEqual({});
  });

  it("runs periodically only while `when` says so, and stop() waits for a pass", async () => {
    let leader = false;
    const t = fakeTable("t", 1, Array(4).fill(2), new Date());
    const r = createRetention({ what: "test", targets: [t.target], schedule: { intervalMs: 20, batchSize: 3 }, logger, when: () => leader });
    r.start();
    await new Promise((res) => setTimeout(res, 100));
    expect(t.calls).toEqual([]);
    leader = true;
    for (let i = 0; i < 100 && r.purged.t < 4; i++) await new Promise((res) => setTimeout(res, 10));
    await r.stop();
    expect(r.purged).toEqual({ t: 4 });
  });
});

describe("retention settings", () => {
  it("default to a week for every window, a pass a minute, 1000 rows a statement", () => {
    const c = loadConfig({});
    expect(c.retention).toEqual({ idempotencyHours: 168, reservationsHours: 168, outboxHours: 168, intervalMs: 60_000, batchSize: 1000 });
    expect(Object.isFrozen(c.retention)).toBe(true);
  });

  it("take 0 as never, and refuse what is out of bounds", () => {
    const c = loadConfig({
      RETENTION_IDEMPOTENCY_HOURS: "0",
      RETENTION_RESERVATIONS_HOURS: "720",
      RETENTION_OUTBOX_HOURS: "24",
      RETENTION_INTERVAL_MS: "5000",
      RETENTION_BATCH_SIZE: "50",
    });
    expect(c.retention).toEqual({ idempotencyHours: 0, reservationsHours: 720, outboxHours: 24, intervalMs: 5000, batchSize: 50 });
    for (const [name, bad] of [
      ["RETENTION_IDEMPOTENCY_HOURS", "-1"],
      ["RETENTION_IDEMPOTENCY_HOURS", "1.5"],
      ["RETENTION_RESERVATIONS_HOURS", "87601"],
      ["RETENTION_OUTBOX_HOURS", "-5"],
      ["RETENTION_INTERVAL_MS", "99"],
      ["RETENTION_BATCH_SIZE", "0"],
      ["RETENTION_BATCH_SIZE", "100001"],
    ]) {
      expect(() => loadConfig({ [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`${name} must be an integer`));
    }
  });
});
