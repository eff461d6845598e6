/**
 * `DATABASE_URL=postgres://… npx tsx bench/list-cost.ts` (Linux: it reads
 * /proc): where one ListOrders page of 10 and one GetOrder cost, in process, on a database
 * seeded as the bench seeds it (ORDERS, default 20000; REUSE_URL reuses one
 * seeded before, KEEP=1 keeps the one it seeds), sequential calls on one
 * connection, median of 5 rounds of N (default 3000):
 *   - backend CPU: the Postgres backend process's utime + stime per page;
 *   - Node CPU: process.cpuUsage around the query loop (driver, Drizzle, rows → Order);
 *   - build + encode: toProtoOrder → create → toBinary of the page, and its bytes;
 *   - client decode: fromBinary of the page, as a Node client pays it;
 * then GetOrder by id (a read-cache miss): its Node and backend CPU, and its
 * answer built and encoded (toGetOrderResponse → toBinary).
 * The repository's own listOrders, so an A/B between two trees runs the
 * same file in each (BENCHMARKS "GetOrder and ListOrders after issue 14").
 */
import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { ListOrdersResponseSchema } from "../gen/orders/v1/order_service_pb.js";
import type { Db } from "../src/platform/db.js";
import type { ListQuery } from "../src/orders/domain/ports.js";
import { findOrder, listOrders } from "../src/orders/infra/order-queries.js";
import { toGetOrderResponse, toProtoOrder } from "../src/orders/rpc/order-codec.js";
import { GetOrderResponseSchema } from "../gen/orders/v1/order_service_pb.js";
import { createBenchDatabase } from "./lib/database.js";
import { customerId, customersWithOrders, orderId, ownersOfBatch } from "./lib/ids.js";
import { seedCatalog, seedOrders } from "./lib/seed.js";

const ORDERS = Number(process.env.ORDERS ?? 20000);
const N = Number(process.env.N ?? 3000);
const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
};

async function main() {
  let url = process.env.REUSE_URL;
  let bench: Awaited<ReturnType<typeof createBenchDatabase>> | undefined;
  if (!url) {
    bench = await createBenchDatabase(process.env.DATABASE_URL!);
    const conn = await bench.open();
    await conn.migrate();
    await seedCatalog(conn.exec, 10_000, 10_000);
    const small = Math.min(ORDERS, 10_000);
    await seedOrders(conn.exec, { from: 1, to: small, products: 10_000, ownerCount: ownersOfBatch(1, small, 10_000) });
    if (ORDERS > small) await seedOrders(conn.exec, { from: small + 1, to: ORDERS, products: 10_000, ownerCount: 10_000 });
    await conn.exec("vacuum analyze");
    await conn.close();
    url = (bench as { url?: string }).url!;
  }
  const client = postgres(url, { max: 1, onnotice: () => {} });
  const db = drizzle(client) as unknown as Db;
  const [{ pid }] = await client<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const listCustomers = customersWithOrders(Math.min(ORDERS, 10_000), 10_000);
  const q = (i: number): ListQuery => ({ customerId: customerId(1 + ((i * 7919) % listCustomers)), statuses: [], createTimeStart: undefined, createTimeEnd: undefined, descending: true });
  for (let i = 0; i < 500; i++) await listOrders(db, q(i), undefined, 11);
  const results: Record<string, number[]> = { backendUs: [], nodeUs: [], wallUs: [], buildUs: [], decodeUs: [] };
  let bytes = 0;
  for (let round = 0; round < 5; round++) {
    const pages = [];
    const b0 = ticks(pid);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < N; i++) pages.push(await listOrders(db, q(round * N + i), undefined, 11));
    const w1 = performance.now();
    const c1 = process.cpuUsage(c0);
    const b1 = ticks(pid);
    results.backendUs.push(((b1 - b0) * 10_000) / N);
    results.nodeUs.push((c1.user + c1.system) / N);
    results.wallUs.push(((w1 - w0) * 1000) / N);
    const t0 = performance.now();
    const encoded = pages.map((p) => toBinary(ListOrdersResponseSchema, create(ListOrdersResponseSchema, { orders: p.slice(0, 10).map(toProtoOrder), nextPageToken: "x" })));
    const t1 = performance.now();
    for (const e of encoded) fromBinary(ListOrdersResponseSchema, e);
    const t2 = performance.now();
    results.buildUs.push(((t1 - t0) * 1000) / N);
    results.decodeUs.push(((t2 - t1) * 1000) / N);
    bytes = encoded.reduce((s, e) => s + e.length, 0) / N;
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(0);
  console.log(`${process.cwd()}  per page of 10 (median of 5 x ${N}): backend CPU ${med(results.backendUs)} us, node CPU (driver+drizzle+map) ${med(results.nodeUs)} us, wall ${med(results.wallUs)} us, build+encode ${med(results.buildUs)} us, client decode ${med(results.decodeUs)} us, ${bytes.toFixed(0)} bytes`);
  console.log(JSON.stringify(results));
  // GetOrder: one order by id (as a read-cache miss does), its answer built and encoded.
  const get: Record<string, number[]> = { backendUs: [], nodeUs: [], answerUs: [] };
  for (let round = 0; round < 5; round++) {
    const found = [];
    const b0 = ticks(pid);
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) found.push(await findOrder(db, orderId(1 + ((round * N + i) * 7919) % ORDERS), false));
    const c1 = process.cpuUsage(c0);
    get.backendUs.push(((ticks(pid) - b0) * 10_000) / N);
    get.nodeUs.push((c1.user + c1.system) / N);
    const t0 = performance.now();
    for (const o of found) toBinary(GetOrderResponseSchema, toGetOrderResponse(o!));
    get.answerUs.push(((performance.now() - t0) * 1000) / N);
  }
  console.log(`GetOrder (median of 5 x ${N}): backend CPU ${med(get.backendUs)} us, node CPU (driver+drizzle+map) ${med(get.nodeUs)} us, answer build+freeze+encode ${med(get.answerUs)} us`);
  await client.end();
  if (bench && !process.env.KEEP) await bench.dispose();
  else if (bench) console.log("kept", url);
}
main().catch((e) => { console.error(e); process.exit(1); });
