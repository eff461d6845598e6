/**
 * `DATABASE_URL=postgres://…/<empty db> npx tsx bench/hold-cost.ts` (or no
 * DATABASE_URL: in-memory PGlite): what one ReserveStock hold costs in process,
 * through the repository's own `reserve`, sequential calls on one pool, median
 * of 5 rounds of N (default 2000) for each path:
 *   - held: a new reservation of 3 lines, all available;
 *   - short: a new reservation of 3 lines, one short (INSUFFICIENT_STOCK);
 *   - repeat: the same id and lines again (the stored reservation);
 * each as wall time and Node CPU per call, plus (Postgres, Linux) the backend
 * CPU of every pool connection per call. The database is migrated here; give
 * it an empty one (PATHS=held,short picks paths). The same file runs on two
 * trees for an A/B.
 */
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { ReservationRequest } from "../src/inventory/domain/reservation.js";
import { createInventoryEvents } from "../src/inventory/infra/inventory-events.js";
import { createReservationRepository } from "../src/inventory/infra/reservation-repository.js";
import { products } from "../src/inventory/infra/schema.js";
import { createDatabase, rowsOf } from "../src/platform/db.js";

const N = Number(process.env.N ?? 2000);
const ROUNDS = 5;
const url = process.env.DATABASE_URL;
const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const database = await createDatabase({ url, poolMax: 1 });
  await database.migrate();
  const db = database.db;
  const now = new Date();
  const ids = Array.from({ length: 4 }, () => randomUUID()).sort();
  await db.insert(products).values(
    ids.map((id, i) => ({
      id,
      sku: `HOLD-${id}`,
      name: "Thing",
      unitPriceMinor: 100n,
      currency: "USD",
      // The last product has none: the short request asks for one of it.
      stockOnHand: i === 3 ? 0n : 10n ** 12n,
      createTime: now,
      updateTime: now,
    })),
  );
  const repo = createReservationRepository(db, createInventoryEvents(10));
  const request = (id: string, short: boolean): ReservationRequest => ({
    owner: "bench",
    id,
    lines: [ids[0], ids[1], short ? ids[3] : ids[2]].sort().map((productId) => ({ productId, quantity: 1 })),
    expireTime: new Date(Date.now() + 3_600_000),
    now: new Date(),
  });
  const pidsOf = async () =>
    url ? rowsOf<{ pid: number }>(await db.execute(sql`select pid from pg_stat_activity where datname = current_database()`)).map((r) => r.pid) : [];
  const paths: Record<string, (i: number) => Promise<unknown>> = {
    held: (i) => repo.reserve(request(`held-${i}`, false)),
    short: (i) => repo.reserve(request(`short-${i}`, true)).then(
      () => {
        throw new Error("held a short request");
      },
      () => undefined,
    ),
    repeat: () => repo.reserve(request("held-0", false)),
  };
  const only = process.env.PATHS?.split(",");
  for (const [name, call] of Object.entries(paths)) {
    if (only && !only.includes(name)) continue;
    for (let i = 0; i < 300; i++) await call(-1 - i); // warm up (negative ids: not the measured ones)
    const wall: number[] = [];
    const node: number[] = [];
    const backend: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pids = await pidsOf();
      const b0 = pids.map(ticks);
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      for (let i = 0; i < N; i++) await call(round * N + i);
      const w1 = performance.now();
      const c1 = process.cpuUsage(c0);
      const b1 = pids.map(ticks);
      wall.push(((w1 - w0) * 1000) / N);
      node.push((c1.user + c1.system) / N);
      backend.push((b1.reduce((s, t, k) => s + t - b0[k], 0) * 10_000) / N);
    }
    const b = url ? `, backend CPU ${median(backend).toFixed(0)} us` : "";
    console.log(`${name.padEnd(6)} wall ${median(wall).toFixed(0)} us, Node CPU ${median(node).toFixed(0)} us${b} per call (${database.kind})`);
  }
  await database.close();
}

await main();
