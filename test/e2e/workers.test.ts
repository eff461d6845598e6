/**
 * WORKERS=2 (README "Every core"): the real process, on a fresh Postgres
 * database it migrates itself. Calls over gRPC and Connect land on both
 * workers (each worker's /metrics carries its `worker` label, and an HTTP/1.1
 * keep-alive connection stays on one worker, so a connection's own scrape
 * says where its calls went); each background job has one leader; a write
 * through one worker evicts the order another worker cached; a killed worker
 * is replaced and its leadership taken over; SIGTERM with calls in flight on
 * both workers answers them all, then the primary exits 0. Without
 * DATABASE_URL, WORKERS=2 is refused at start.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService, OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { MIGRATIONS_FOLDER, postgresConnection } from "../../src/platform/db.js";
import { ADMIN, customer, STAFF, TEST_AUDIENCE, TEST_ISSUER, testAuthConfig, tokenFor } from "../support/auth.js";
import { onRealPostgres } from "../support/db.js";

const LOCKS = ["order-service:inventory-expiry-sweeper", "order-service:inventory-retention", "order-service:orders-reconciler", "order-service:orders-retention"];

interface LogLine {
  readonly msg?: string;
  readonly worker?: number;
  readonly workerPid?: number;
  readonly lock?: string;
  readonly [k: string]: unknown;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The service as `npm run dev` runs it, with WORKERS=2; its stdout's JSON lines collected. */
function startService(env: Record<string, string>, dataDir: string) {
  // No broker from the environment (CI sets REDIS_URL and NATS_URL): the relays would add two leader locks to LOCKS.
  const { DATABASE_URL: _db, NODE_OPTIONS: _no, REDIS_URL: _redis, NATS_URL: _nats, EVENTS_BROKER: _broker, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...inherited, GRPC_PORT: "0", HTTP_PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, SEED_DEMO_DATA: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const logs: LogLine[] = [];
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith("{")) logs.push(JSON.parse(line) as LogLine);
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, logs, out: () => out, err: () => err, exited };
}

/** One HTTP/1.1 keep-alive connection, kept: Connect JSON clients and /metrics over it reach the same worker. */
function pinned(httpUrl: string, token: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  /** A transport over this connection, sending `as`'s token. */
  const as = (bearerToken: string): Transport =>
    createConnectTransport({
      baseUrl: httpUrl,
      httpVersion: "1.1",
      nodeOptions: { agent },
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${bearerToken}`), next(req))],
    });
  return { agent, transport: as(token), as, metrics: () => scrape(httpUrl, agent), close: () => agent.destroy() };
}

function scrape(httpUrl: string, agent: http.Agent | false): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`${httpUrl}/metrics`, { agent }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

const workerOf = (metrics: string) => /^target_info\{[^}]*worker="(\d+)"/m.exec(metrics)?.[1];

/** The sum of a counter's samples whose labels include every one of `labels`. */
function sum(metrics: string, name: string, labels: string[] = []): number {
  let n = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) || !labels.every((l) => line.includes(l))) continue;
    n += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return n;
}

/** /metrics of every worker, scraped over fresh connections (round robin) until `count` distinct workers answered. */
async function everyWorker(httpUrl: string, count: number): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  await until(`${count} workers' metrics`, async () => {
    const m = await scrape(httpUrl, false);
    seen.set(workerOf(m)!, m);
    return seen.size >= count || undefined;
  });
  return seen;
}

describe("WORKERS=2 without DATABASE_URL", () => {
  it("is refused at start with a message naming the variable and the single writer", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "order-workers-pglite-"));
    try {
      const s = startService({ WORKERS: "2" }, dataDir);
      expect(await s.exited).toBe(2);
      expect(s.err()).toContain("configuration error: WORKERS=2 needs DATABASE_URL");
      expect(s.err()).toContain("single writer");
      expect(s.out()).not.toContain("order service ready");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!onRealPostgres)("WORKERS=2 on Postgres", () => {
  let service: ReturnType<typeof startService>;
  let admin: postgres.Sql;
  let dbName: string;
  let dbUrl: string;
  let dataDir: string;
  let grpcUrl: string;
  let httpUrl: string;
  let adminToken: string;
  let staffToken: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "order-workers-"));
    // A fresh database with no schema: the first worker migrates it, alone.
    dbName = `t_workers_${Date.now().toString(36)}`;
    const { url: adminUrl, options } = postgresConnection(process.env.DATABASE_URL!);
    admin = postgres(adminUrl, { ...options, max: 2, onnotice: () => {} });
    await admin.unsafe(`create database ${dbName}`);
    const u = new URL(process.env.DATABASE_URL!);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
    const auth = await testAuthConfig();
    service = startService(
      {
        WORKERS: "2",
        DATABASE_URL: dbUrl,
        LOG_LEVEL: "info",
        METRICS_PUBLIC: "true",
        RATE_LIMITS: "off",
        LEADER_RETRY_MS: "200",
        AUTH_PUBLIC_KEYS: auth.publicKeyFiles.join(","),
        AUTH_ISSUER: TEST_ISSUER,
        AUTH_AUDIENCE: TEST_AUDIENCE,
      },
      dataDir,
    );
    await until("the banner", () => (service.out().includes("order service ready") ? true : undefined), 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${service.out().slice(-3000)}\n${service.err().slice(-3000)}`);
    });
    grpcUrl = `http://127.0.0.1:${/gRPC:\s+127\.0\.0\.1:(\d+)/.exec(service.out())![1]}`;
    httpUrl = /Connect\/HTTP:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(service.out())![1];
    adminToken = await tokenFor(ADMIN);
    staffToken = await tokenFor(STAFF);
  }, 150_000);

  afterAll(async () => {
    service?.child.kill("SIGKILL");
    await admin?.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin?.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts both workers on one migrated schema, and says so once", async () => {
    expect(service.out().match(/order service ready/g)).toHaveLength(1);
    expect(service.out()).toContain("Workers:         2 processes share both ports");
    const listening = service.logs.filter((l) => l.msg === "worker listening");
    expect(listening.map((l) => l.worker)).toEqual([1, 2]);
    const db = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const [{ n }] = await db<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(n).toBe(readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).length);
    } finally {
      await db.end();
    }
  });

  it("spreads calls over gRPC and Connect across both workers", async () => {
    // A connection per client, opened one after another: the primary hands them to the workers in turn.
    for (let i = 0; i < 4; i++) {
      const grpc = createClient(InventoryService, createGrpcTransport({ baseUrl: grpcUrl }));
      await grpc.listProducts({ pageSize: 1 });
      const agent = new http.Agent({ keepAlive: false });
      const connect = createClient(InventoryService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", nodeOptions: { agent } }));
      await connect.listProducts({ pageSize: 1 });
    }
    const byWorker = await everyWorker(httpUrl, 2);
    for (const [worker, metrics] of byWorker) {
      const handled = (transport: string) => sum(metrics, "grpc_server_handled_total", ['grpc_method="ListProducts"', `transport="${transport}"`, `worker="${worker}"`]);
      expect(handled("grpc"), `worker ${worker} gRPC`).toBeGreaterThan(0);
      expect(handled("connect"), `worker ${worker} Connect`).toBeGreaterThan(0);
    }
  });

  it("runs each background job on one worker only", async () => {
    for (const lock of LOCKS) {
      const leading = service.logs.filter((l) => l.lock === lock && l.msg?.startsWith("leading"));
      expect(leading, lock).toHaveLength(1);
    }
    const db = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const held = await db<{ objid: number; holders: number }[]>`
        select objid::int, count(*)::int as holders from pg_locks
        where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
        group by objid`;
      expect(held).toHaveLength(LOCKS.length);
      expect(held.every((h) => h.holders === 1)).toBe(true);
    } finally {
      await db.end();
    }
  });

  it("a write through one worker evicts the order the other worker cached", async () => {
    const connections = await twoWorkers(adminToken);
    const [a, b] = connections;
    try {
      const adminA = { inventory: createClient(InventoryService, a.transport), customers: createClient(CustomerService, a.transport) };
      const product = (await adminA.inventory.createProduct({ sku: `w-${Date.now()}`, name: "Widget", unitPrice: { currencyCode: "EUR", amountMinor: 500n }, initialStock: 10n })).product!;
      const customerId = (await adminA.customers.createCustomer({ email: `w-${Date.now()}@example.com`, displayName: "Worker Test" })).customer!.id;
      const ordersA = createClient(OrderService, a.as(await tokenFor(customer(customerId))));
      const { order } = await ordersA.createOrder({ customerId, requestId: `w-${Date.now()}`, items: [{ productId: product.id, quantity: 1 }] });
      expect(order!.status).toBe(OrderStatus.CONFIRMED);

      // Worker B reads it twice: the second read is answered from B's cache.
      const ordersB = createClient(OrderService, b.transport);
      const hitsBefore = sum(await b.metrics(), "order_cache_hits_total");
      await ordersB.getOrder({ orderId: order!.id });
      await ordersB.getOrder({ orderId: order!.id });
      expect(sum(await b.metrics(), "order_cache_hits_total")).toBeGreaterThan(hitsBefore);

      // Worker A changes it; B's cached copy is evicted by the change signal (orders_changed), not by time.
      const staffA = createClient(OrderService, a.as(staffToken));
      await staffA.updateOrderStatus({ orderId: order!.id, status: OrderStatus.PROCESSING });
      await until("worker B to see PROCESSING", async () => {
        const o = (await ordersB.getOrder({ orderId: order!.id })).order!;
        return o.status === OrderStatus.PROCESSING || undefined;
      }, 5_000);
    } finally {
      connections.forEach((c) => c.close());
    }
  });

  it("replaces a killed worker, and another worker takes over its background jobs", async () => {
    const reconciler = service.logs.find((l) => l.lock === "order-service:orders-reconciler" && l.msg?.startsWith("leading"))!;
    const victim = service.logs.find((l) => l.msg === "worker listening" && l.worker === reconciler.worker)!;
    const ledByVictim = LOCKS.filter((lock) => leaderOf(lock) === victim.worker);
    process.kill(victim.workerPid!, "SIGKILL");
    await until("the worker's replacement", () => service.logs.find((l) => l.msg === "worker listening" && l.worker! > 2), 60_000);
    expect(service.logs.some((l) => l.msg === "worker exited unexpectedly; replacing it" && l.worker === victim.worker)).toBe(true);
    // Its session ended with it, and with the session its advisory locks: a live worker leads each of its jobs now.
    for (const lock of ledByVictim) await until(`a new leader of ${lock}`, () => (leaderOf(lock) !== victim.worker) || undefined);
    for (const lock of LOCKS) expect(service.logs.filter((l) => l.lock === lock && l.msg?.startsWith("leading")).length).toBe(ledByVictim.includes(lock) ? 2 : 1);
    // Calls go on, on both live workers.
    const byWorker = await everyWorker(httpUrl, 2);
    expect([...byWorker.keys()]).not.toContain(String(victim.worker));
  }, 90_000);

  it("on SIGTERM answers the calls in flight on both workers, then the primary exits 0", async () => {
    const connections = await twoWorkers(adminToken);
    const customers = await Promise.all(
      connections.map(async (c) => (await createClient(CustomerService, c.transport).createCustomer({ email: `d-${c.worker}-${Date.now()}@example.com`, displayName: "Drain" })).customer!.id),
    );
    // Every read of the customers table waits behind this lock: the calls below stay in flight until it goes.
    const db = postgres(dbUrl, { max: 1, onnotice: () => {} });
    let release!: () => void;
    let locked = false;
    const held = db.begin(async (tx) => {
      await tx`lock table customers.customers in access exclusive mode`;
      locked = true;
      await new Promise<void>((r) => (release = r));
    });
    await until("the lock", () => locked || undefined);
    // In flight: a Connect call on each worker (one per HTTP/1.1 connection), and two gRPC calls on each of two HTTP/2 connections.
    const connectCalls = connections.map((c, i) => createClient(CustomerService, c.transport).getCustomer({ customerId: customers[i] }, { timeoutMs: 20_000 }));
    const grpcCalls = [0, 1].flatMap(() => {
      const grpc = createClient(CustomerService, createGrpcTransport({ baseUrl: grpcUrl, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${adminToken}`), next(req))] }));
      return [0, 1].map(() => grpc.getCustomer({ customerId: customers[0] }, { timeoutMs: 20_000 }));
    });
    const calls = [...connectCalls, ...grpcCalls];
    const settled = Promise.allSettled(calls);
    const observer = postgres(dbUrl, { max: 1, onnotice: () => {} });
    await until("the calls waiting on the lock", async () => {
      const [{ n }] = await observer<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`;
      return n >= calls.length || undefined;
    });
    await observer.end();

    service.child.kill("SIGTERM");
    await until("both workers shutting down", () => service.logs.filter((l) => l.msg === "shutting down").length >= 2 || undefined);
    await new Promise((r) => setTimeout(r, 300));
    release();
    await held;
    await db.end();

    const results = await settled;
    expect(results.map((r) => (r.status === "fulfilled" ? "answered" : String(r.reason)))).toEqual(calls.map(() => "answered"));
    expect(await service.exited).toBe(0);
    expect(service.logs.some((l) => l.msg === "every worker has exited" && l.clean === true)).toBe(true);
    connections.forEach((c) => c.close());
  }, 60_000);

  /** The worker that leads `lock` now (its last "leading" line). */
  function leaderOf(lock: string): number | undefined {
    return service.logs.filter((l) => l.lock === lock && l.msg?.startsWith("leading")).at(-1)?.worker;
  }

  /** Two pinned connections, on different workers. */
  async function twoWorkers(token: string) {
    const found = new Map<string, ReturnType<typeof pinned> & { worker: string }>();
    const extra: ReturnType<typeof pinned>[] = [];
    await until("connections on two workers", async () => {
      const c = pinned(httpUrl, token);
      const worker = workerOf(await c.metrics())!;
      if (found.has(worker)) extra.push(c);
      else found.set(worker, { ...c, worker });
      return found.size >= 2 || undefined;
    });
    extra.forEach((c) => c.close());
    return [...found.values()];
  }
});

