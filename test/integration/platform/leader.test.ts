/**
 * One leader for single-instance background work (leader.ts), on real
 * Postgres: of two instances exactly one leads; when it stops the other takes
 * over at its next try; when a leading *process* is killed, Postgres frees its
 * lock with its session and this one takes over; and two apps built as
 * main.ts builds them share one reconciler and one sweeper between them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createDatabase, type Database } from "../../../src/platform/db.js";
import { createLeadership } from "../../../src/platform/leader.js";
import { createLogger } from "../../../src/platform/logger.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { startTestStack } from "../../support/servers.js";

const logger = createLogger("silent");
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

async function handleTo(db: TestDatabase): Promise<Database> {
  const d = await createDatabase({ url: db.url, poolMax: 2 });
  cleanup.push(() => d.close());
  return d;
}

describe.runIf(onRealPostgres)("leadership on Postgres", () => {
  it("has exactly one leader of two, and hands over when it stops", async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.dispose());
    const [a, b] = await Promise.all([handleTo(db), handleTo(db)]).then((hs) =>
      hs.map((h) => createLeadership(h, { name: "t:reconciler", what: "a test", retryMs: 50, logger })),
    );
    await Promise.all([a.start(), b.start()]);
    await vi.waitFor(() => expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1), { timeout: 5000, interval: 20 });
    // Stays one over many tries.
    await new Promise((r) => setTimeout(r, 300));
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.isLeader ? [a, b] : [b, a];
    await leader.stop();
    expect(leader.isLeader).toBe(false);
    await vi.waitFor(() => expect(follower.isLeader).toBe(true), { timeout: 5000, interval: 20 });
    await follower.stop();
  });

  it("takes over from a leading process that is killed", async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.dispose());
    const script = fileURLToPath(new URL("../../support/hold-lock.ts", import.meta.url));
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script, db.url!, "t:sweeper"], { stdio: ["ignore", "pipe", "inherit"] });
    cleanup.push(async () => child.kill("SIGKILL"));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => d.toString().includes("leading") && resolve());
      child.once("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
    });
    const mine = createLeadership(await handleTo(db), { name: "t:sweeper", what: "a test", retryMs: 50, logger });
    await mine.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(mine.isLeader).toBe(false); // the other process leads
    child.kill("SIGKILL");
    await vi.waitFor(() => expect(mine.isLeader).toBe(true), { timeout: 10_000, interval: 20 });
    await mine.stop();
  });

  it("lets one of two apps run the reconciler and the sweeper", async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.dispose());
    const one = await startTestStack({ database: await handleTo(db) as TestDatabase, config: { leaderRetryMs: 50 } });
    cleanup.push(() => one.close());
    const two = await startTestStack({ database: await handleTo(db) as TestDatabase, config: { leaderRetryMs: 50 } });
    cleanup.push(() => two.close());
    for (const task of ["reconciler", "sweeper"] as const) {
      await vi.waitFor(() => expect([one, two].filter((s) => s.app.leaders[task]?.isLeader)).toHaveLength(1), { timeout: 5000, interval: 20 });
    }
    // The first started leads both; once it closes, the second takes over.
    expect(one.app.leaders.reconciler!.isLeader).toBe(true);
    await one.close();
    await vi.waitFor(() => expect([two.app.leaders.reconciler!.isLeader, two.app.leaders.sweeper!.isLeader]).toEqual([true, true]), { timeout: 5000, interval: 20 });
  });
});

describe.runIf(!onRealPostgres)("leadership on PGlite", () => {
  it("always leads: one process owns the data directory", async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.dispose());
    const l = createLeadership(db, { name: "t", what: "a test", retryMs: 50, logger });
    await l.start();
    expect(l.isLeader).toBe(true);
    await l.stop();
  });
});
