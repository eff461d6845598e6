/**
 * Crash test of events out (README "Events", the delivery contract in
 * proto/orders/v1/order_events.proto): the service runs as its own process
 * (`node --import tsx src/main.ts`) on a fresh Postgres database, relaying
 * to Redis, while several clients create, cancel and advance orders; it is
 * killed with SIGKILL five times and restarted on the same ports each time.
 * Half the kills come at a random moment, the others right after the relay
 * put a batch on the stream (before it can mark it: the takeover then has to
 * find it there). Afterwards, once the outbox has drained:
 * - every committed change has its outbox row (per order, versions 1..n),
 *   and every outbox row's event is on the stream: none lost;
 * - each order's events are in version order, repeats dropped;
 * - a repeat is an exact copy of an earlier entry (counted and printed);
 * - nothing is on the stream that no outbox row holds.
 *
 * Postgres only: kill -9 of the process owning an embedded database's data
 * directory is not a supported deployment.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { rowsOf } from "../../src/platform/db.js";
import { ADMIN, testAuthConfig } from "../support/auth.js";
import { clientsOver, type Clients } from "../support/clients.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/db.js";
import { auditStream, drainedSnapshot, outboxRows, readStream } from "../support/event-audit.js";
import { freePort, sharedRedisUrl, uniquePrefix } from "../support/redis.js";

const redisUrl = await sharedRedisUrl();
const prefix = uniquePrefix("events-crash");
const stream = `${prefix}orders`;
const KILLS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

let database: TestDatabase | undefined;
let redis: Redis | undefined;
let service: ChildProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), "events-crash-"));

afterAll(async () => {
  if (service && service.exitCode === null && service.signalCode === null) service.kill("SIGKILL");
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  await database?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the service on the given ports; resolves once it listens. Its output is kept for failures. */
async function startService(env: Record<string, string>, log: string[]): Promise<ChildProcess> {
  const { DATABASE_URL: _db, NODE_OPTIONS: _no, REDIS_URL: _r, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 60_000);
    const read = (d: Buffer) => {
      out += d.toString();
      log.push(d.toString());
      if (/gRPC:\s+127\.0\.0\.1:\d+/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code, signal) => reject(new Error(`service exited (${code ?? signal}) before listening:\n${out}`)));
  });
  return child;
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await gone;
}

/** Resolves when a new entry lands on the stream (or after `ms`). */
async function nextPublish(url: string, ms: number): Promise<void> {
  const r = new Redis(url, { lazyConnect: true });
  try {
    await r.connect();
    await r.xread("BLOCK", ms, "STREAMS", stream, "$");
  } finally {
    r.disconnect();
  }
}

interface Load {
  /** Changes acknowledged OK per life of the process (index: restarts so far). */
  readonly acked: number[];
  readonly failed: number;
  readonly createdOrders: string[];
  stop(): Promise<void>;
}

/** `workers` clients in a loop: create (55%), cancel (25%) or advance to PROCESSING (20%) an order; failures ignored. */
function startLoad(clients: readonly Clients[], customers: readonly string[], products: readonly string[], life: () => number): Load {
  let stopped = false;
  const acked: number[] = [];
  const createdOrders: string[] = [];
  let failed = 0;
  let seq = 0;
  const call = { timeoutMs: 5000 };
  const worker = async (c: Clients) => {
    const mine: string[] = [];
    while (!stopped) {
      const lifeNow = life();
      const roll = Math.random();
      try {
        if (roll < 0.55 || mine.length === 0) {
          const { order } = await c.orders.createOrder(
            {
              customerId: pick(customers),
              requestId: `crash-${process.pid}-${seq++}`,
              items: [{ productId: pick(products), quantity: 1 + Math.floor(Math.random() * 3) }],
            },
            call,
          );
          mine.push(order!.id);
          createdOrders.push(order!.id);
        } else if (roll < 0.8) {
          await c.orders.cancelOrder({ orderId: pick(mine), reason: "crash test" }, call);
        } else {
          await c.orders.updateOrderStatus({ orderId: mine[mine.length - 1], status: OrderStatus.PROCESSING }, call);
        }
        acked[lifeNow] = (acked[lifeNow] ?? 0) + 1;
      } catch (err) {
        // Down (connection refused or reset) or a refusal (advancing a cancelled order): either way, go on.
        failed++;
        await sleep(ConnectError.from(err).code === Code.Unavailable ? 100 : 10);
      }
    }
  };
  const running = clients.map(worker);
  return {
    acked,
    createdOrders,
    get failed() {
      return failed;
    },
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

describe.skipIf(!onRealPostgres || !redisUrl)("events out: kill -9 under load", () => {
  it("loses no committed change's event, keeps each order's events in order, repeats only exact copies", { timeout: 240_000 }, async () => {
    database = await createTestDatabase();
    redis = new Redis(redisUrl!, { lazyConnect: true });
    await redis.connect();
    const auth = await testAuthConfig();
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: database.url!,
      REDIS_URL: redisUrl!,
      EVENTS_BROKER: "redis",
      EVENTS_REDIS_PREFIX: prefix,
      EVENTS_POLL_MS: "25",
      EVENTS_BATCH_SIZE: "50",
      LEADER_RETRY_MS: "200",
      RECONCILE_INTERVAL_MS: "1000",
      RATE_LIMITS: "false",
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      SEED_DEMO_DATA: "false",
      LOG_LEVEL: "info",
      AUTH_PUBLIC_KEYS: auth.publicKeyFiles.join(","),
      AUTH_SERVICE_KEY: auth.serviceKeyFile!,
      AUTH_ISSUER: auth.issuer,
      AUTH_AUDIENCE: auth.audience,
    };
    const log: string[] = [];
    service = await startService(env, log);
    const urls = { grpcUrl: `http://127.0.0.1:${grpcPort}`, httpUrl: `http://127.0.0.1:${httpPort}` };

    const admin = clientsOver(urls, "grpc", ADMIN);
    const products: string[] = [];
    const customers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { product } = await admin.inventory.createProduct({
        sku: `crash-${Date.now().toString(36)}-${i}`,
        name: `Crash ${i}`,
        unitPrice: { currencyCode: "EUR", amountMinor: 500n },
        initialStock: 1_000_000n,
      });
      products.push(product!.id);
    }
    for (let i = 0; i < 4; i++) {
      const { customer } = await admin.customers.createCustomer({ email: `crash-${i}-${Date.now()}@example.com`, displayName: `Crash ${i}` });
      customers.push(customer!.id);
    }

    // Six clients on both wires, each with its own connection; they reconnect by themselves after a restart.
    let restarts = 0;
    const clients = Array.from({ length: 6 }, (_, i) => clientsOver(urls, i % 2 === 0 ? "grpc" : "connect json", ADMIN));
    const load = startLoad(clients, customers, products, () => restarts);
    const kills: string[] = [];
    const underLoad = () => until(() => (load.acked[restarts] ?? 0) > 0, 60_000, `calls answered after restart ${restarts}`);
    try {
      for (let k = 0; k < KILLS; k++) {
        await underLoad();
        await sleep(500 + Math.random() * 2000);
        if (k % 2 === 1) await nextPublish(redisUrl!, 3000);
        const killed = Date.now();
        await killHard(service);
        await sleep(Math.random() * 500);
        service = await startService(env, log);
        restarts++;
        kills.push(`${k % 2 === 1 ? "after a publish" : "random"}, down ${((Date.now() - killed) / 1000).toFixed(1)} s`);
      }
      await underLoad();
      await sleep(1500);
    } finally {
      await load.stop();
    }

    // Every committed change has its outbox row: per order, versions 1..version, once each.
    const { rows: published, waitedMs } = await drainedSnapshot(database.db, 60_000);
    const entries = await readStream(redis, stream);
    const rows = await outboxRows(database.db);
    // One statement, one snapshot: each order's outbox versions in id order against its version.
    const orderRows = rowsOf<{ id: string; version: number; versions: number[] }>(
      await database.db.execute(sql`select o.id::text as id, o.version,
        coalesce((select array_agg(x.version order by x.id) from orders.outbox x where x.aggregate_id = o.id), '{}') as versions
      from orders.orders o`),
    );
    const gaps = orderRows.filter((o) => !(o.versions.length === o.version && o.versions.every((v, i) => v === i + 1)));
    expect(gaps).toEqual([]);
    const known = new Set(orderRows.map((o) => o.id));
    expect(load.createdOrders.filter((id) => !known.has(id))).toEqual([]);

    const audit = auditStream(published, entries, rows);
    const takeovers = log.join("").split("events already on the broker").length - 1;
    console.log(
      `events-crash: ${KILLS} kills (${kills.join("; ")}), ${orderRows.length} orders, ${rows.length} outbox rows, ` +
        `${audit.entries} stream entries = ${audit.events} events + ${audit.duplicates} duplicates; ` +
        `${takeovers} takeovers found their predecessor's batch already published; acknowledged per life ${JSON.stringify(load.acked)}, ` +
        `${load.failed} calls failed; drained ${waitedMs} ms after the load stopped`,
    );
    expect(audit.lost).toEqual([]);
    expect(audit.outOfOrder).toEqual([]);
    expect(audit.badDuplicates).toEqual([]);
    expect(audit.foreign).toEqual([]);
    expect(audit.mismatched).toEqual([]);
    expect(audit.dead).toEqual([]);
    // Every life of the process served the load (underLoad waited for it).
    expect(load.acked).toHaveLength(KILLS + 1);

    // A clean stop at the end (afterAll SIGKILLs it if it hangs).
    const exited = new Promise((r) => service!.once("exit", r));
    service.kill("SIGTERM");
    await Promise.race([exited, sleep(15_000)]);
  });
});
