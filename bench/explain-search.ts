/**
 * `npx tsx bench/explain-search.ts [--orders N] [--keep]` (Postgres:
 * DATABASE_URL): which plan Postgres picks for each SearchOrders scenario of
 * the bench, and for ListOrders by customer (the yardstick), on a fresh
 * database seeded exactly as the bench seeds it (default 1M orders).
 *
 * The SQL is the service's own: the repository's query functions run on a
 * Drizzle handle that records each statement and its values. For every
 * scenario it prints EXPLAIN (ANALYZE, BUFFERS) of one request's statements
 * (planned with its values, as the first executions of a prepared statement
 * are), then
 * runs 30 more of the scenario's random requests as one prepared statement
 * per text — as a service connection does — and reports how many of them
 * Postgres planned generically (pg_prepared_statements): a generic plan is
 * one plan for every value, which a skewed filter can make slow.
 * BENCH_EXPLAIN_URL=postgres://…/db reuses a database already seeded (no
 * seeding, nothing dropped).
 */
import { create } from "@bufbuild/protobuf";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { SearchOrdersRequestSchema } from "../gen/orders/v1/order_service_pb.js";
import type { Db } from "../src/platform/db.js";
import type { SearchQuery } from "../src/orders/domain/ports.js";
import { listOrders } from "../src/orders/infra/order-queries.js";
import { searchOrders } from "../src/orders/infra/order-search.js";
import { toSearchOrdersInput } from "../src/orders/rpc/search-codec.js";
import { createBenchDatabase } from "./lib/database.js";
import { customersWithOrders, ownersOfBatch, customerId } from "./lib/ids.js";
import { SEARCH_SCENARIOS, searchRequest, type DataShape } from "./lib/scenarios.js";
import { seedCatalog, seedOrders } from "./lib/seed.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : (process.argv[i + 1] ?? "");
};
const log = (s: string) => process.stdout.write(s + "\n");

async function seeded(): Promise<{ url: string; dispose(): Promise<void> }> {
  const reuse = process.env.BENCH_EXPLAIN_URL;
  if (reuse) return { url: reuse, dispose: async () => {} };
  if (!process.env.DATABASE_URL) throw new Error("set DATABASE_URL (a Postgres server; a bench_* database is created and dropped)");
  const orders = Number(arg("orders") ?? 1_000_000);
  const [products, customers, small] = [10_000, 10_000, Math.min(orders, 10_000)];
  const db = await createBenchDatabase(process.env.DATABASE_URL);
  const t0 = performance.now();
  const conn = await db.open();
  try {
    await conn.migrate();
    await seedCatalog(conn.exec, products, customers);
    // As bench/run.ts: the first batch to the list customers, the rest to everyone.
    await seedOrders(conn.exec, { from: 1, to: small, products, ownerCount: ownersOfBatch(1, small, customers) });
    await seedOrders(conn.exec, { from: small + 1, to: orders, products, ownerCount: customers }, (n) => log(`  seeded ${n}`));
    await conn.exec("vacuum analyze");
  } finally {
    await conn.close();
  }
  log(`seeded ${orders} orders in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const url = (db as { url?: string }).url!;
  const keep = process.argv.includes("--keep");
  return {
    url,
    async dispose() {
      if (keep) log(`kept ${url}`);
      else await db.dispose();
    },
  };
}

async function main() {
  const target = await seeded();
  // One connection: its prepared statements are the ones pg_prepared_statements shows.
  const client = postgres(target.url, { max: 1, onnotice: () => {} });
  const statements: { sql: string; params: unknown[] }[] = [];
  /** Which cases ran each statement text. */
  const caseOf = new Map<string, Set<string>>();
  let current = "";
  const record = (sql: string, params: unknown[]) => {
    statements.push({ sql, params });
    caseOf.set(sql, (caseOf.get(sql) ?? new Set()).add(current));
  };
  const db = drizzle(client, { logger: { logQuery: record } }) as unknown as Db;
  try {
    const [{ n }] = await client<{ n: string }[]>`select count(*)::text as n from orders.orders`;
    const shape: DataShape = { products: 10_000, customers: 10_000, orders: Number(n), listCustomers: customersWithOrders(10_000, 10_000), runTag: "explain" };
    const cases: { name: string; run: () => Promise<unknown> }[] = [
      { name: "list-orders (by customer)", run: () => listOrders(db, byCustomer(shape), undefined, 11) },
      ...SEARCH_SCENARIOS.map((name) => {
        const request = searchRequest(name, shape);
        return { name, run: async () => searchOrders(db, await resolved(client, request()), undefined, 11) };
      }),
    ];
    for (const c of cases) {
      statements.length = 0;
      current = c.name;
      await c.run();
      log(`\n### ${c.name}`);
      // A tag or prefix search may take two statements (order-search.ts): each one's plan.
      for (const { sql, params } of [...statements]) {
        const plan = await client.unsafe(`explain (analyze, buffers, costs off) ${sql}`, params as never[]);
        log(`\nvalues: ${JSON.stringify(params, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n\n${plan.map((r) => r["QUERY PLAN"]).join("\n")}`);
      }
      for (let i = 0; i < 30; i++) await c.run();
    }
    log("\n### prepared statements after 31 runs each (generic / custom plans)\n");
    const prepared = await client<{ statement: string; generic_plans: string; custom_plans: string }[]>`
      select statement, generic_plans::text, custom_plans::text from pg_prepared_statements where statement like 'select %' order by prepare_time`;
    for (const p of prepared.filter((s) => caseOf.has(s.statement))) {
      const step = p.statement.includes("offset 0) m") ? "second step" : p.statement.includes("infinity'::timestamptz") ? "first step" : "one statement";
      log(`- ${[...(caseOf.get(p.statement) ?? ["?"])].join(", ")} (${step}): generic ${p.generic_plans}, custom ${p.custom_plans}`);
    }
  } finally {
    await client.end();
    await target.dispose();
  }
}

function byCustomer(d: DataShape): SearchQuery {
  const who = 1 + Math.floor(Math.random() * d.listCustomers);
  return { customerId: customerId(who), statuses: [], createTimeStart: undefined, createTimeEnd: undefined, descending: true, number: undefined, paymentStatuses: [], fulfilmentStatuses: [], tag: undefined };
}

/** The request as SearchOrders hands it to the repository: an email becomes its customer's id (CustomerService's lookup). */
async function resolved(client: postgres.Sql, init: Parameters<typeof create<typeof SearchOrdersRequestSchema>>[1]): Promise<SearchQuery> {
  const { query, customerEmail } = toSearchOrdersInput(create(SearchOrdersRequestSchema, { ...init, pageSize: 10 }));
  if (customerEmail === undefined) return query;
  const [c] = await client<{ id: string }[]>`select id from customers.customers where lower(email) = lower(${customerEmail})`;
  if (!c) throw new Error(`no seeded customer has ${customerEmail}`);
  return { ...query, customerId: c.id };
}

main().catch((err: unknown) => {
  process.stderr.write(`explain failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
