/**
 * Measures CreateOrder's full flow in one process: the whole app (orders,
 * inventory, customers, in-process transport) on a fresh database seeded
 * with bench/lib/seed.ts, called over gRPC on loopback by a client in the
 * same process. Prints, after a warm-up:
 * - orders/s (noisy on a shared machine; compare CPU instead);
 * - process CPU ms per order (server + client; the client part is constant);
 * - with --count, database statements sent per order (counted at the driver,
 *   Postgres only; the counting hook costs CPU, so CPU is not comparable then);
 * - a stock check: every product's reserved is 0 and stock fell by what was ordered.
 *
 *   npx tsx scripts/measure-create-order.ts            # Postgres (DATABASE_URL or 127.0.0.1), fresh db, dropped after
 *   npx tsx scripts/measure-create-order.ts --pglite   # in-memory PGlite
 *   options: --orders 2000 --concurrency 16 --warmup 300 --products 1000 --count
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createApp } from "../src/app.js";
import { loadConfig, type Config } from "../src/config.js";
import { createDatabase, MIGRATIONS_FOLDER, rowsOf, type Database, type Db } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";
import { seedCatalog, SEED_STOCK } from "../bench/lib/seed.js";
import { createOrderRequest, type DataShape } from "../bench/lib/scenarios.js";

const { values: args } = parseArgs({
  options: {
    pglite: { type: "boolean", default: false },
    count: { type: "boolean", default: false },
    orders: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    warmup: { type: "string", default: "300" },
    products: { type: "string", default: "1000" },
  },
});
const ORDERS = Number(args.orders);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Number(args.warmup);
const PRODUCTS = Number(args.products);
const CUSTOMERS = 1000;
const print = (line: string) => process.stdout.write(`${line}\n`);

let statements = 0;

/** Postgres with a statement counter, else PGlite; `drop` removes the fresh database. */
async function openDatabase(): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (args.pglite) {
    const database = await createDatabase({});
    await database.migrate();
    return { database, drop: async () => {} };
  }
  const base = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `measure_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const client = postgres(url.toString(), {
    max: 10,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    ...(args.count ? { debug: () => void statements++ } : {}),
  });
  const db = drizzle(client) as unknown as Db;
  const database: Database = {
    db,
    kind: "postgres",
    ping: async () => void (await client`select 1`),
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.end({ timeout: 5 }),
  };
  await database.migrate();
  return {
    database,
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

async function main() {
  const { database, drop } = await openDatabase();
  const exec = async (text: string) => void (await database.db.execute(sql.raw(text)));
  await seedCatalog(exec, PRODUCTS, CUSTOMERS);
  const config: Config = {
    // The development key (in DATA_DIR/auth) signs an admin token for the client.
    ...loadConfig({ AUTH_DEV_KEYS: "true" }),
    host: "127.0.0.1",
    grpcPort: 0,
    httpPort: 0,
    migrateOnStart: false,
    seedDemoData: false,
    logLevel: "silent",
    shutdownGraceMs: 1000,
    reconcileIntervalMs: 3_600_000,
  };
  const app = await createApp(config, createLogger("silent"), { database });
  const { grpcPort } = await app.start();
  const token = await app.auth.devSigner!.sign({ role: "admin", id: "measure-create-order" }, 3600);
  const orders = createClient(
    OrderService,
    createGrpcTransport({
      baseUrl: `http://127.0.0.1:${grpcPort}`,
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
    }),
  );
  const shape: DataShape = { products: PRODUCTS, customers: CUSTOMERS, orders: 0, listCustomers: 1, runTag: randomBytes(4).toString("hex") };

  let seq = 0;
  let ordered = 0n;
  const run = async (n: number) => {
    let next = 0;
    const worker = async () => {
      while (next++ < n) {
        const req = createOrderRequest(shape, seq++);
        await orders.createOrder(req);
        for (const i of req.items) ordered += BigInt(i.quantity);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };

  await run(WARMUP);
  const s0 = statements;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(ORDERS);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sent = statements - s0;

  const [stock] = rowsOf<{ reserved: string; sold: string }>(
    await database.db.execute(
      sql.raw(`select sum(reserved)::text as reserved, (${PRODUCTS}::bigint * ${SEED_STOCK} - sum(stock_on_hand))::text as sold from inventory.products`),
    ),
  );
  print(`${database.kind}: ${ORDERS} orders, ${CONCURRENCY} in flight`);
  print(`  ${((ORDERS / ms) * 1000).toFixed(0)} orders/s`);
  print(`  ${((cpu.user + cpu.system) / 1000 / ORDERS).toFixed(2)} ms CPU per order (process, server + client)`);
  if (args.count && !args.pglite) print(`  ${(sent / ORDERS).toFixed(2)} statements per order`);
  print(`  stock: reserved ${stock.reserved}, sold ${stock.sold}, ordered ${ordered} ${BigInt(stock.sold) === ordered && stock.reserved === "0" ? "(ok)" : "(MISMATCH)"}`);
  await app.close();
  await database.close();
  await drop();
}

await main();
