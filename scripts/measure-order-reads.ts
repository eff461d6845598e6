/**
 * Measures the orders read path (repository findById and list) on a fresh
 * database seeded with set-based SQL: `--orders` orders (default 10k) over
 * 100 customers, 2 lines and 2 history entries each. Prints, per driver:
 * - queries sent per call (counted at the driver);
 * - calls/s for N sequential and N 16-way concurrent calls of GetOrder
 *   (findById of a random order) and ListOrders (a page of 50 by customer);
 * - a digest of what a fixed sample of reads returns (values AND types:
 *   bigint, Date, undefined), so two runs on different code can be compared.
 *
 *   npx tsx scripts/measure-order-reads.ts            # Postgres (DATABASE_URL or 127.0.0.1), fresh db, dropped after
 *   npx tsx scripts/measure-order-reads.ts --pglite   # in-memory PGlite
 *   options: --orders 10000 --calls 4000
 */
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { createDatabase, type Database } from "../src/platform/db.js";
import { createOrderRepository } from "../src/orders/infra/order-repository.js";
import type { OrderRepository } from "../src/orders/domain/ports.js";
import type { Order } from "../src/orders/domain/order.js";

const { values: args } = parseArgs({
  options: {
    pglite: { type: "boolean", default: false },
    orders: { type: "string", default: "10000" },
    calls: { type: "string", default: "4000" },
  },
});
const ORDERS = Number(args.orders);
const CALLS = Number(args.calls);
const CUSTOMERS = 100;
const PAGE = 50;

const ORDER_ID_SQL = "md5('order-' || i)::uuid";
const customerIdOf = (c: number) => uuidOfMd5(`customer-${c}`);

const print = (line: string) => process.stdout.write(`${line}\n`);

function uuidOfMd5(s: string): string {
  const h = createHash("md5").update(s).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Deterministic, varied rows: amounts beyond 2^53, null address / shipping
 * info / from-status, some deleted orders, lines inserted in reverse line_no
 * order and, for every third order, history inserted newest first (so id
 * order differs from time order).
 */
async function seed(database: Database): Promise<void> {
  const { db } = database;
  await db.execute(
    sql.raw(`
    insert into orders.orders (id, customer_id, request_id, status, currency, total_minor, shipping_address,
      carrier, tracking_number, reservation_id, reservation_state, version, create_time, update_time, delete_time)
    select ${ORDER_ID_SQL}, md5('customer-' || (i % ${CUSTOMERS}))::uuid, 'req-' || i,
      case when i % 5 = 0 then 'SHIPPED' else 'PROCESSING' end, 'EUR',
      case when i % 3 = 0 then 9007199254740993 + i else 2500 + i end,
      case when i % 7 = 0 then null else jsonb_build_object('recipientName', 'R ' || i, 'line1', i || ' Main St',
        'line2', '', 'city', 'Berlin', 'region', '', 'postalCode', '10115', 'countryCode', 'DE') end,
      case when i % 5 = 0 then 'DHL' end, case when i % 5 = 0 then 'TRK' || i end,
      'order-' || md5('order-' || i)::uuid, 'COMMITTED', 3,
      timestamptz '2024-01-01 00:00:00.001+00' + i * interval '1 second' + (i % 997) * interval '1 millisecond',
      timestamptz '2024-03-01 00:00:00.999+00' + i * interval '1 second',
      case when i % 97 = 0 then timestamptz '2024-06-01 12:00:00.5+00' + i * interval '1 millisecond' end
    from generate_series(1, ${ORDERS}) i`),
  );
  await db.execute(
    sql.raw(`
    insert into orders.order_lines (order_id, line_no, product_id, variant_id, quantity, currency, unit_price_minor, line_total_minor)
    select ${ORDER_ID_SQL}, n, md5('product-' || ((i * 7 + n) % 5000))::uuid, 'v' || n, n, 'EUR',
      case when i % 3 = 0 then 4503599627370497 + n else 1000 + n end,
      case when i % 3 = 0 then n * (4503599627370497 + n) else n * (1000 + n) end
    from generate_series(1, ${ORDERS}) i, generate_series(2, 1, -1) n order by i, n desc`),
  );
  await db.execute(
    sql.raw(`
    insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
    select ${ORDER_ID_SQL}, case when k = 1 then null else 'CONFIRMED' end,
      case when k = 1 then 'CONFIRMED' else 'PROCESSING' end, 'reason ' || k, 'user:' || (i % 13),
      timestamptz '2024-01-01 00:00:00.001+00' + i * interval '1 second' + k * interval '10.007 seconds'
    from generate_series(1, ${ORDERS}) i, generate_series(1, 2) k
    order by i, case when i % 3 = 0 then -k else k end`),
  );
  await db.execute(sql`analyze`);
}

/** Counts statements sent to the database, whichever driver. */
function countQueries(database: Database): { readonly count: () => number } {
  let n = 0;
  const client = (database.db as unknown as { $client: Record<string, unknown> }).$client;
  if (database.kind === "postgres") {
    (client.options as { debug: unknown }).debug = () => n++;
  } else {
    const query = (client.query as (...a: unknown[]) => unknown).bind(client);
    client.query = (...a: unknown[]) => (n++, query(...a));
  }
  return { count: () => n };
}

async function rate(label: string, call: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 300; i++) await call(i); // warm-up
  const parts: string[] = [];
  for (const concurrency of [1, 16]) {
    const start = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < CALLS) await call(next++);
      }),
    );
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    parts.push(`${String(concurrency).padStart(2)}-way ${(CALLS / secs).toFixed(0).padStart(6)} calls/s`);
  }
  print(`${label.padEnd(36)} ${parts.join("   ")}`);
}

/** A value with its types spelled out (bigint, Date, undefined survive), keys sorted. */
function canonical(v: unknown): unknown {
  if (typeof v === "bigint") return { bigint: v.toString() };
  if (v instanceof Date) return { date: v.getTime() };
  if (v === undefined) return { undefined: true };
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, canonical(o[k])]));
  }
  return v;
}

async function digest(repo: OrderRepository, ids: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  const add = (orders: readonly (Order | undefined)[]) => hash.update(JSON.stringify(canonical(orders)));
  for (let i = 0; i < ids.length; i += 7) {
    add([await repo.findById(ids[i]), await repo.findById(ids[i], { includeDeleted: true })]);
  }
  for (let c = 0; c < CUSTOMERS; c += 3) {
    for (const descending of [false, true]) {
      const query = { customerId: customerIdOf(c), statuses: [], createTimeStart: undefined, createTimeEnd: undefined, descending };
      const first = await repo.list(query, undefined, PAGE);
      const last = first[first.length - 1];
      add(first);
      add(await repo.list(query, { createTimeMs: last.createTime.getTime(), id: last.id }, PAGE));
    }
  }
  add(await repo.list({ customerId: undefined, statuses: ["SHIPPED"], createTimeStart: undefined, createTimeEnd: undefined, descending: true }, undefined, PAGE));
  return hash.digest("hex").slice(0, 16);
}

async function measure(database: Database): Promise<void> {
  const t0 = Date.now();
  await seed(database);
  print(`seeded ${ORDERS} orders (${database.kind}) in ${Date.now() - t0} ms`);
  const repo = createOrderRepository(database.db, () => {});
  const ids = Array.from({ length: ORDERS }, (_, i) => uuidOfMd5(`order-${i + 1}`));
  const pick = (i: number) => ids[(i * 7919) % ids.length];
  const page = (i: number) =>
    repo.list(
      { customerId: customerIdOf(i % CUSTOMERS), statuses: [], createTimeStart: undefined, createTimeEnd: undefined, descending: true },
      undefined,
      PAGE,
    );
  await Promise.all([repo.findById(pick(0)), page(0)]); // connection setup queries are not the call's
  const queries = countQueries(database);
  const before = queries.count();
  await repo.findById(pick(1));
  const perGet = queries.count() - before;
  await page(1);
  print(`queries per call: GetOrder ${perGet}, ListOrders page ${queries.count() - before - perGet}`);
  print(`result digest: ${await digest(repo, ids)}`);
  await rate("GetOrder (findById)", (i) => repo.findById(pick(i)));
  await rate(`ListOrders (page of ${PAGE}, by customer)`, page);
}

async function onPostgres(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `measure_reads_${randomBytes(4).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  try {
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    const database = await createDatabase({ url: url.toString(), poolMax: 16 });
    try {
      await database.migrate();
      await measure(database);
    } finally {
      await database.close();
    }
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function onPglite(): Promise<void> {
  const database = await createDatabase({});
  try {
    await database.migrate();
    await measure(database);
  } finally {
    await database.close();
  }
}

await (args.pglite ? onPglite() : onPostgres());
