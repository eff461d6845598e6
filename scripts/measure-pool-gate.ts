/**
 * What the deadline and pool bounds cost per call (BENCHMARKS.md, "Deadlines
 * and pool"). Prints:
 * - the pool gate's free-slot path alone (acquire + release), ns per unit;
 * - a one-row `select ... for update` transaction, `--inflight` at once, µs each:
 *   Drizzle's plain `db.transaction`, boundedTransaction without a deadline
 *   (the gate only), and with one (the gate, the SET LOCAL round trip and
 *   the check before COMMIT).
 * Rounds alternate the sides so drift on a shared machine hits all of them.
 *
 *   npx tsx scripts/measure-pool-gate.ts     # Postgres at DATABASE_URL (default 127.0.0.1/postgres)
 *   options: --calls 4000 --rounds 5 --inflight 16 (1: one at a time, round trips show)
 */
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { boundedTransaction } from "../src/platform/bounded.js";
import { createDatabase, type Db } from "../src/platform/db.js";
import { createPoolGate } from "../src/platform/pool-gate.js";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "4000" },
    rounds: { type: "string", default: "5" },
    inflight: { type: "string", default: "16" },
  },
});
const CALLS = Number(args.calls);
const ROUNDS = Number(args.rounds);
const INFLIGHT = Number(args.inflight);
const URL_ = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const print = (line: string) => process.stdout.write(`${line}\n`);

function gateAlone(): number {
  const gate = createPoolGate({ size: 10, transactions: 8, waitMs: 1000 });
  const n = 10_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    gate.acquire(false);
    gate.release(false);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

/** µs per call of `one`, `calls` calls with INFLIGHT in flight. */
async function timed(calls: number, one: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next++ < calls) await one();
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1000 / calls;
}

async function main() {
  print(`pool gate, free slot (acquire + release): ${gateAlone().toFixed(1)} ns`);
  const database = await createDatabase({ url: URL_, poolMax: 10 });
  const db = database.db;
  await db.execute(sql`create table if not exists measure_pool_gate_row (id int primary key, n int)`);
  await db.execute(sql`insert into measure_pool_gate_row select i, 0 from generate_series(1, 64) i on conflict do nothing`);
  const lock = (tx: Pick<Db, "execute">) =>
    tx.execute(sql`select n from measure_pool_gate_row where id = ${1 + Math.floor(Math.random() * 64)} for update`);
  const sides: Record<string, () => Promise<unknown>> = {
    "db.transaction": () => db.transaction((tx) => lock(tx)),
    "boundedTransaction, no deadline": () => boundedTransaction(db, undefined, (tx) => lock(tx)),
    "boundedTransaction, deadline": () => boundedTransaction(db, { deadline: Date.now() + 5000 }, (tx) => lock(tx)),
  };
  for (const one of Object.values(sides)) await timed(CALLS / 4, one); // warm-up: connections, plans
  const sums = new Map(Object.keys(sides).map((k) => [k, 0]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, one] of Object.entries(sides)) sums.set(name, sums.get(name)! + (await timed(CALLS, one)));
  }
  const base = sums.get("db.transaction")!;
  for (const [name, sum] of sums) print(`${name}: ${(sum / ROUNDS).toFixed(1)} µs (${((sum / base) * 100).toFixed(0)}%)`);
  await db.execute(sql`drop table if exists measure_pool_gate_row`);
  await database.close();
}

await main();
