/**
 * `BEFORE=<another checkout> DATABASE_URL=postgres://…/<empty db> npx tsx bench/hold-statement-ab.ts`
 * (Linux): the hold statement (inventory_reserve_hold) of another checkout
 * and of this one, each prepared on one connection of one database and run
 * alternately in blocks (B executions, BLOCKS blocks each, default 8 × 1500),
 * a new reservation of 3 available lines each time: the median wall time
 * and backend CPU (the backend's utime + stime, /proc) per execution. The
 * alternation cancels most of a busy machine's drift, which separate runs
 * do not. Each tree's statement text is taken from its own
 * createReservationStatements; the schema is this tree's.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
const here = fileURLToPath(new URL("..", import.meta.url));
const trees = [process.env.BEFORE ?? here, here];
const texts: string[] = [], orders: string[][] = [];
for (const tree of trees) {
  const { createReservationStatements } = await import(tree + "/src/inventory/infra/reservation-statements.ts");
  const fake = { _: { session: { prepareQuery: (q: { sql: string; params: { name: string }[] }, _f: unknown, name: string) => {
    if (name === "inventory_reserve_hold") { texts.push(q.sql); orders.push(q.params.map((p) => p.name)); }
    return { execute: async () => [] };
  } } } };
  createReservationStatements(fake as never, true);
}
{ const { createDatabase } = await import(here + "src/platform/db.ts"); const d = await createDatabase({ url: process.env.DATABASE_URL }); await d.migrate(); await d.close(); }
const sqlc = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
const [{ pid }] = await sqlc`select pg_backend_pid() as pid`;
const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); };
const ids = [0, 1, 2].map(() => crypto.randomUUID()).sort();
for (const id of ids) await sqlc`insert into inventory.products (id, sku, name, unit_price_minor, currency, stock_on_hand, create_time, update_time) values (${id}, ${"X" + id}, 'x', 100, 'USD', 1000000000000, now(), now())`;
for (let k = 0; k < texts.length; k++) await sqlc.unsafe(`prepare h${k} as ${texts[k]}`);
const lit = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? `'{${v.join(",")}}'` : `'${v}'`);
let n = 0;
const exec = (k: number) => {
  const now = new Date().toISOString();
  const vals: Record<string, unknown> = { owner: "o", id: `r-${n++}`, productIds: ids, quantities: [1, 1, 1], expiresAt: now, now, threshold: "10", traceparent: null };
  return sqlc.unsafe(`execute h${k}(${orders[k].map((name) => lit(vals[name])).join(",")})`);
};
for (let i = 0; i < 300; i++) for (let k = 0; k < texts.length; k++) await exec(k); // warm up
const B = Number(process.env.B ?? 1500), BLOCKS = Number(process.env.BLOCKS ?? 8);
const wall = texts.map(() => [] as number[]), cpu = texts.map(() => [] as number[]);
for (let b = 0; b < BLOCKS; b++) for (const k of texts.map((_, i) => (i + b) % texts.length)) {
  const t0 = ticks(), w0 = performance.now();
  for (let i = 0; i < B; i++) await exec(k);
  wall[k].push(((performance.now() - w0) * 1000) / B); cpu[k].push(((ticks() - t0) * 10_000) / B);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const k of texts.keys()) console.log(`${["before", "after "][k]}: wall ${med(wall[k]).toFixed(0)} us, backend CPU ${med(cpu[k]).toFixed(0)} us per held hold of 3 lines (median of ${BLOCKS} blocks of ${B}, interleaved)`);
await sqlc.end();
