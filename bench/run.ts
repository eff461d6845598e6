/**
 * `npm run bench`: seeds a fresh database, measures the ceilings (plain
 * grpc-js no-op, the same no-op through our stack, pgbench running the
 * CreateOrder transaction) and the service's scenarios side by side in one
 * run, with authentication on (a token per simulated customer, signed by a
 * key made for the run), then CreateOrder and GetOrder again with it off, and
 * one verification's cost in process; checks the ghz configs against server
 * reflection, and writes bench/results/{results.json,results.md,chart.svg}.
 * `--help` lists flags.
 */
import { once } from "node:events";
import { Redis } from "ioredis";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { createBenchAuth, measureVerifyCost, mintCustomerTokens, primeTokenCache, type BenchAuth } from "./lib/auth.js";
import { startCeilingServer, startService, type Child, type SpawnOptions } from "./lib/children.js";
import { createBenchDatabase, type BenchDatabase } from "./lib/database.js";
import { ensureH2load } from "./lib/h2load.js";
import { customersWithOrders, ownersOfBatch } from "./lib/ids.js";
import { measureRow, rowId, type RowSpec, type Target } from "./lib/measure.js";
import { parseOptions, type BenchOptions } from "./lib/options.js";
import { runPgbench } from "./lib/pgbench.js";
import { profileMarkdown, summariseProfile } from "./lib/profile.js";
import { callGhzConfigsOnce, checkGhzConfigs, reflect } from "./lib/reflection.js";
import { writeReport, type RelayFigures, type Row, type RunReport } from "./lib/report.js";
import { SEARCH_SCENARIOS, type LoadData } from "./lib/scenarios.js";
import { seedCatalog, seedOrders } from "./lib/seed.js";
import { runLoad } from "./lib/loadgen.js";
import { overloadRows, overloadTargets, runOverload, type OverloadResult } from "./lib/overload.js";
import { measure, rssMb } from "./lib/proc.js";
import { AUTH_LEGS, authLabel, evaluateTargets, isOffLeg, LIMITS_COMPARED, limitsLabel, limitsLegsOf, METRICS_COMPARED, metricsLabel, TRACING_COMPARED, tracingLabel, RELAY_COMPARED, relayLabel, type AuthLeg, type LimitsLeg } from "./lib/targets.js";
import { abuseServiceEnv, abuseTargets, runAbusive, type AbuseResult } from "./lib/abusive.js";

const log = (s: string) => process.stdout.write(s + "\n");

async function seed(db: BenchDatabase, o: BenchOptions, from: number, to: number, seconds: number[]): Promise<void> {
  const t0 = performance.now();
  const conn = await db.open();
  try {
    if (from === 1) {
      await conn.migrate();
      await seedCatalog(conn.exec, o.products, o.customers);
    }
    // Customers 1..customersWithOrders(small) own the first batch; later orders spread over everyone.
    const owners = ownersOfBatch(from, o.smallOrders, o.customers);
    await seedOrders(conn.exec, { from, to, products: o.products, ownerCount: owners }, (done) => {
      if (to - from > 100_000) log(`  seeded ${done} orders (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    });
    await conn.exec("vacuum analyze");
    // Flush the seed's dirty pages now, so their write-back does not compete with the next measurement.
    await conn.exec("checkpoint").catch((err: unknown) => log(`  (no checkpoint after seeding: ${String(err)})`));
  } finally {
    await conn.close();
  }
  seconds.push((performance.now() - t0) / 1000);
  log(`seeded orders ${from}..${to} in ${seconds.at(-1)!.toFixed(1)} s`);
}

/**
 * Rate limits are off except in the abusive scenario: the h2load rows repeat
 * one customer's request thousands of times a second, which is exactly what
 * the limits refuse. What they cost per call is measured in process
 * (scripts/measure-rate-limit.ts).
 */
function serviceEnv(db: BenchDatabase, o: BenchOptions, auth: BenchAuth, extra: Record<string, string> = {}) {
  // No events broker unless a leg asks for one (a REDIS_URL in the bench's environment would turn the relay on).
  // One process (WORKERS defaults to the cores on Postgres): only the workers rows compare more.
  return { ...db.serviceEnv, ...auth.serviceEnv, DB_POOL_MAX: String(o.poolMax), RATE_LIMITS: "off", EVENTS_BROKER: "none", WORKERS: "1", ...extra };
}

/**
 * The service, started as `npm start` runs it, with its token cache primed
 * with every customer's token (primeTokenCache): measured rows then see the
 * steady state of a long-running service, not the first-verification burst of
 * a restart (that cost is measured on its own). `startupMs` covers the
 * priming too, so profiles leave it out.
 */
async function startPrimedService(opts: SpawnOptions, tokens: readonly string[]): Promise<Child> {
  const child = await startService(opts);
  const t0 = performance.now();
  try {
    await primeTokenCache(`http://127.0.0.1:${child.grpcPort}`, tokens);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { ...child, startupMs: child.startupMs + performance.now() - t0 };
}

function targetOf(child: Child, db: BenchDatabase): Target {
  return {
    pid: child.pid,
    grpcUrl: `http://127.0.0.1:${child.grpcPort}`,
    httpUrl: child.httpPort ? `http://127.0.0.1:${child.httpPort}` : undefined,
    withPostgres: db.kind === "postgres",
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), process.env);
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const rows: Row[] = [];
  const seconds: number[] = [];
  const workDir = mkdtempSync(join(os.tmpdir(), "order-bench-work-"));
  const auth = await createBenchAuth(workDir);
  const wanted = (s: RowSpec) => o.only.length === 0 || o.only.some((x) => rowId(s).includes(x));
  const h2 = o.useH2load && ensureH2load(log);
  if (!h2) notes.push("h2load (nghttp2-client) unavailable: the fixed-request rows were run by the Node generator only.");
  const generators = (fixedOk: boolean): ("h2load" | "node")[] => (h2 && fixedOk ? ["h2load", "node"] : ["node"]);

  const db = await createBenchDatabase(process.env.DATABASE_URL);
  log(`bench: ${db.kind === "postgres" ? "PostgreSQL (fresh database from DATABASE_URL)" : "PGlite (temp dir)"}; ` +
    `${o.products} products, ${o.customers} customers, ${o.orders} orders; ${o.durationMs / 1000} s per scenario (+${o.warmupMs / 1000} s warm-up), ${o.concurrency} in flight`);
  const tokens = await mintCustomerTokens(auth, o.customers);
  const staffToken = await auth.sign({ role: "staff", id: "bench-staff" });
  const verifyCost = await measureVerifyCost(auth, tokens);
  log(
    `auth: ${tokens.length} ${auth.alg} customer tokens; in process a verify takes ${verifyCost.firstUs.toFixed(0)} µs the first time, ` +
      `${verifyCost.hitManyTokensUs.toFixed(2)} µs cached (tokens in turn), ${verifyCost.hitOneTokenUs.toFixed(2)} µs cached (one token over and over)`,
  );
  const data = (orders: number): LoadData => ({
    products: o.products,
    customers: o.customers,
    orders,
    listCustomers: customersWithOrders(o.smallOrders, o.customers),
    firstBatch: o.smallOrders,
    tokens,
    staffToken,
    runTag: `bench-${Date.now().toString(36)}`,
  });
  let service: Child | undefined;
  const profiles: RunReport["profiles"] = [];
  let reflection: RunReport["reflection"] = { services: [], ghzConfigs: [] };
  let soak: { startMb: number; endMb: number; seconds: number } | undefined;
  let pgbenchRow: Row | undefined;
  let abuse: AbuseResult | undefined;
  let overload: OverloadResult | undefined;
  let relayFigures: RelayFigures | undefined;
  try {
    if (o.serve) return await serve(db, o, auth, seconds);

    // 1. Ceilings, with nothing else running.
    log("ceilings");
    for (const [file, label] of [["plain-grpc-noop", "noop (plain grpc-js)"], ["stack-noop", "noop (our stack)"]] as const) {
      const child = await startCeilingServer(file);
      try {
        const t = targetOf(child, db);
        const protocols = file === "stack-noop" ? (["grpc", "connect-json"] as const) : (["grpc"] as const);
        for (const protocol of protocols)
          for (const generator of generators(true)) {
            const spec: RowSpec = { group: "ceiling", label, scenario: "noop", protocol, generator };
            if (wanted(spec) || label.startsWith("noop (plain")) rows.push(await measureRow(spec, t, o, data(0), workDir, log));
          }
      } finally {
        await child.stop();
      }
    }

    // 2. The small side of the scale scenario: the database path, so without the order read cache.
    await seed(db, o, 1, o.smallOrders, seconds);
    service = await startPrimedService({ env: serviceEnv(db, o, auth, { ORDER_CACHE_SIZE: "0" }) }, tokens);
    const schema = await reflect(`127.0.0.1:${service.grpcPort}`);
    const ghzConfigs = checkGhzConfigs(schema);
    // An admin may call every method the configs name (staff may not create orders).
    const ghzToken = await auth.sign({ role: "admin", id: "bench-ghz" });
    await callGhzConfigsOnce(schema, `http://127.0.0.1:${service.grpcPort}`, Math.min(o.products, o.customers, o.smallOrders), ghzToken);
    reflection = { services: schema.services, ghzConfigs };
    log(`reflection: ${ghzConfigs.length} ghz configs match the served schema and succeed once each`);
    log(`scale @${o.smallOrders} orders`);
    for (const scenario of ["get-order", "list-orders"] as const) {
      const spec: RowSpec = { group: "scale", label: `${scenario} @${o.smallOrders}`, scenario, protocol: "grpc", generator: "node" };
      if (wanted(spec)) rows.push(await measureRow(spec, targetOf(service, db), o, data(o.smallOrders), workDir, log));
    }

    // 3. Everything else at full scale, with the order read cache as configured by default.
    await service.stop(); // PGlite is single-process; on Postgres this keeps seeding unmeasured and fast
    service = undefined;
    if (o.orders > o.smallOrders) await seed(db, o, o.smallOrders + 1, o.orders, seconds);
    // The large side of the scale scenario, in the same configuration as the small side (cache off).
    if (o.orders > o.smallOrders) {
      service = await startPrimedService({ env: serviceEnv(db, o, auth, { ORDER_CACHE_SIZE: "0" }) }, tokens);
      log(`scale @${o.orders} orders`);
      // SearchOrders, one row per filter, beside list-orders by customer in the same service (targets.ts compares their p99).
      for (const scenario of ["get-order", "list-orders", ...SEARCH_SCENARIOS] as const) {
        const spec: RowSpec = { group: "scale", label: `${scenario} @${o.orders}`, scenario, protocol: "grpc", generator: "node" };
        if (wanted(spec)) rows.push(await measureRow(spec, targetOf(service, db), o, data(o.orders), workDir, log));
      }
      await service.stop();
    }
    service = await startPrimedService({ env: serviceEnv(db, o, auth) }, tokens);
    log(`scenarios @${o.orders} orders`);
    const plan: RowSpec[] = [];
    const add = (label: string, scenario: RowSpec["scenario"], fixedOk: boolean, protocols: RowSpec["protocol"][]) => {
      for (const protocol of protocols)
        for (const generator of generators(fixedOk)) plan.push({ group: "service", label, scenario, protocol, generator });
    };
    add("get-product", "get-product", true, ["grpc", "connect-json"]);
    add("get-order", "get-order", true, ["grpc", "connect-json"]);
    add("list-orders", "list-orders", true, ["grpc", "connect-json"]);
    add("create-order", "create-order", false, ["grpc", "connect-json"]);
    // A flash sale: every order buys the same two products (judged against the create-order row above).
    add("hot-products", "hot-products", false, ["grpc"]);
    add("mixed 80/10/10", "mixed", false, ["grpc"]);
    for (const spec of plan.filter(wanted)) rows.push(await measureRow(spec, targetOf(service, db), o, data(o.orders), workDir, log));
    if (o.only.length === 0 || o.only.some((x) => "overload".includes(x))) {
      overload = await measureOverload(service, db, o, data(o.orders), rows, workDir);
      rows.push(...overloadRows(overload));
    }

    if (o.soakMs > 0) soak = await runSoak(service, db, o, data(o.orders));
    await service.stop();
    service = undefined;

    // 3b. Rate limits: one customer hammering while the others go on.
    if (o.only.length === 0 || o.only.some((x) => "abusive".includes(x))) {
      const child = await startPrimedService({ env: serviceEnv(db, o, auth, abuseServiceEnv(o)) }, tokens);
      try {
        const result = await runAbusive(targetOf(child, db), o, data(o.orders), workDir, log);
        rows.push(...result.rows);
        abuse = result.abuse;
      } finally {
        await child.stop();
      }
    }

    // 4. What authentication costs: CreateOrder and GetOrder with it on and off.
    rows.push(...(await measureAuthOnOff(db, o, auth, () => data(o.orders), workDir, wanted, generators)));
    // 4b. What rate limits and admission cost when nobody is over a limit: CreateOrder and GetOrder with both on and off.
    rows.push(...(await measureLimitsOnOff(db, o, auth, () => data(o.orders), workDir, wanted)));
    // 4c. What metrics cost per call: the same with METRICS on and off.
    rows.push(...(await measureMetricsOnOff(db, o, auth, () => data(o.orders), workDir, wanted, generators)));
    // 4d. What tracing costs per call: the SDK on, exporting every span, against off.
    rows.push(...(await measureTracingOnOff(db, o, auth, () => data(o.orders), workDir, wanted)));
    // 4e. What publishing events costs CreateOrder: the relay on (Redis) against off; its drain rate and lag.
    const relay = await measureRelayOnOff(db, o, auth, () => data(o.orders), workDir, wanted);
    rows.push(...relay.rows);
    relayFigures = relay.figures;

    // 4f. What a second worker process gives (WORKERS=1 vs 2, README "Every core").
    rows.push(...(await measureWorkers(db, o, auth, () => data(o.orders), workDir, wanted, generators)));

    // 5. The database ceiling: the CreateOrder transaction in pgbench.
    if (db.kind === "postgres" && db.url) {
      const spec = { label: "create-order txn (pgbench)", protocol: "sql", generator: "pgbench" } as const;
      if (o.only.length === 0 || o.only.some((x) => rowId(spec).includes(x) || "create-order".includes(x))) {
        const w = measure(undefined, true);
        const r = await runPgbench({ url: db.url, clients: o.poolMax, durationMs: o.durationMs, products: o.products, customers: o.customers });
        const proc = w.stop();
        pgbenchRow = {
          id: rowId(spec), group: "ceiling", scenario: spec.label, protocol: "sql", generator: "pgbench",
          rps: r.tps, ok: r.transactions, p50Ms: r.latencyAvgMs, p90Ms: NaN, p99Ms: NaN,
          errors: r.failed ? { failed: r.failed } : {}, serverCpuCores: 0, dbCpuCores: proc.dbCpuCores, peakRssMb: NaN,
          note: "p50 column holds pgbench's average latency",
        };
        rows.push(pgbenchRow);
        log(`  ${pgbenchRow.id.padEnd(44)} ${r.tps.toFixed(0).padStart(7)} orders/s  avg ${r.latencyAvgMs} ms  db cpu ${proc.dbCpuCores.toFixed(2)}`);
      }
    } else {
      notes.push("PGlite: no pgbench ceiling (pgbench needs a Postgres server); CreateOrder is compared with nothing. Set DATABASE_URL for the full comparison.");
    }

    // 6. Profiles of the hot paths (optional).
    if (o.profile) await runProfiles(db, o, auth, data(o.orders), workDir, profiles);
  } finally {
    await service?.stop();
    await db.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }

  assignCeilings(rows);
  const report: RunReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "?", memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    database: db.kind === "postgres" ? "PostgreSQL" : "PGlite",
    options: o,
    seed: { products: o.products, customers: o.customers, orders: o.orders, smallOrders: o.smallOrders, seconds },
    notes: [
      `Each scenario: ${o.warmupMs / 1000} s warm-up, then ${o.durationMs / 1000} s measured, ${o.concurrency} calls in flight (Node generator: ${o.workers} worker thread(s); h2load: ${Math.max(1, Math.min(8, Math.round(o.concurrency / 8)))} connections). Server CPU and peak RSS cover warm-up and measurement.`,
      "h2load rows repeat one request (order/product/customer no. 1); Node rows pick random seeded rows per call. gRPC errors under h2load are detected by response DATA bytes (see bench/lib/h2load.ts).",
      `Authentication is on (${auth.alg} keys made for the run, AUTH_PUBLIC_KEYS): CreateOrder is sent by the customer it is for, GetOrder by the order's owner, ListOrders by the customer listed, each with that customer's token (h2load: customer 1's); GetProduct and Health go anonymous. Each service start is first primed with one Health check per customer token, so its token cache holds them as a long-running service's would.`,
      "Auth on vs off: the same data and cache settings, each leg a freshly started service, measured on → off → on; the on side is the mean of the two on legs, so a drift of the database over time favours neither side.",
      `GetOrder has an in-process read cache (ORDER_CACHE_SIZE, default 1000 orders): the h2load get-order rows (one id) are all cache hits; the Node get-order rows (random ids over ${o.orders} orders) mostly miss. Both sides of the scale scenario (@${o.smallOrders} and @${o.orders}) run with ORDER_CACHE_SIZE=0: they measure the database path, each in a freshly started service.`,
      "Rate limits are off (RATE_LIMITS=off) in every row but the abusive scenario's, whose service runs them with a read limit per principal; its normal callers are paced (open loop), their p99 compared alone and beside one customer sending 10× its limit.",
      ...notes,
    ],
    rows,
    targets: [...evaluateTargets(rows, o, soak), ...abuseTargets(rows, abuse), ...overloadTargets(overload)],
    reflection,
    auth: { alg: auth.alg, customerTokens: tokens.length, verify: verifyCost },
    profiles,
    abuse,
    relay: relayFigures,
  };
  const out = writeReport(o.outDir, report);
  log(`\nwrote ${out.md}, ${out.json}, ${out.svg}`);
  for (const t of report.targets) log(`  ${t.status.padEnd(12)} ${t.name}: ${t.measured} (goal ${t.goal})`);
}

/** Judges each row against its ceiling: the plain grpc-js no-op on the same generator, or pgbench for creates (auth on/off rows are judged against each other). */
function assignCeilings(rows: Row[]): void {
  const find = (id: string) => rows.find((r) => r.id === id);
  for (const r of rows) {
    if (r.generator === "pgbench" || r.group === "auth" || r.id.startsWith("noop (plain")) continue;
    const ceiling =
      r.scenario === "hot-products"
        ? find(`create-order ${r.protocol} ${r.generator}`)
        : r.scenario === "create-order"
          ? (find("create-order txn (pgbench) sql pgbench") ?? find(`noop (plain grpc-js) grpc ${r.generator}`))
          : find(`noop (plain grpc-js) grpc ${r.generator}`);
    if (ceiling && ceiling.rps > 0) r.ceiling = { id: ceiling.id, rps: ceiling.rps, ratio: r.rps / ceiling.rps };
  }
}

/**
 * CreateOrder and GetOrder (gRPC; Node generator, and h2load for GetOrder)
 * with authentication on, off (AUTH_DISABLED=true: every call an admin,
 * nothing verified; the same requests, tokens included, so only the server's
 * work differs), and on again: same data, same cache settings, each leg in a
 * freshly started, primed service. CreateOrder adds orders and every read
 * warms Postgres' buffers, so whichever side runs later meets a slightly
 * bigger, warmer database; with the off leg in the middle and the on side the
 * mean of the legs before and after it, a drift linear in time cancels out.
 */
async function measureAuthOnOff(
  db: BenchDatabase,
  o: BenchOptions,
  auth: BenchAuth,
  /** A fresh run tag per row: the legs must not repeat each other's CreateOrder request ids. */
  data: () => LoadData,
  workDir: string,
  wanted: (s: RowSpec) => boolean,
  generators: (fixedOk: boolean) => ("h2load" | "node")[],
): Promise<Row[]> {
  const compared = [
    ...generators(true).map((generator) => ({ scenario: "get-order" as const, generator })),
    { scenario: "create-order" as const, generator: "node" as const },
  ];
  const specs = legSpecs("auth", authLabel, compared);
  const env = (leg: AuthLeg) => serviceEnv(db, o, auth, leg === "off" ? { AUTH_DISABLED: "true" } : {});
  return measureLegs("auth on vs off", AUTH_LEGS, specs, env, { db, o, data, workDir, wanted });
}

/** The limits on/off legs (targets.ts LIMITS_LEGS, alternated): the defaults (RATE_LIMITS on, in memory here; admission as configured by default) against both off. */
async function measureLimitsOnOff(db: BenchDatabase, o: BenchOptions, auth: BenchAuth, data: () => LoadData, workDir: string, wanted: (s: RowSpec) => boolean): Promise<Row[]> {
  const specs = legSpecs("limits", limitsLabel, LIMITS_COMPARED);
  const env = (leg: LimitsLeg) => serviceEnv(db, o, auth, isOffLeg(leg) ? { RATE_LIMITS: "off", ADMISSION_MAX_CONCURRENT: "0" } : { RATE_LIMITS: "on" });
  return measureLegs("limits on vs off", limitsLegsOf(o), specs, env, { db, o, data, workDir, wanted });
}

/** The metrics on/off legs (the limits legs, alternated): METRICS on (the default) against off. */
async function measureMetricsOnOff(
  db: BenchDatabase,
  o: BenchOptions,
  auth: BenchAuth,
  data: () => LoadData,
  workDir: string,
  wanted: (s: RowSpec) => boolean,
  generators: (fixedOk: boolean) => ("h2load" | "node")[],
): Promise<Row[]> {
  // --quick (the smoke test): one row per leg, to show the legs run; a real run compares all three.
  const compared = METRICS_COMPARED.filter((c) =>
    o.quick ? c.scenario === "get-order" && c.generator === "node" : c.generator === "node" || generators(true).includes(c.generator),
  );
  const specs = legSpecs("metrics", metricsLabel, compared);
  const env = (leg: LimitsLeg) => serviceEnv(db, o, auth, { METRICS: isOffLeg(leg) ? "false" : "true" });
  return measureLegs("metrics on vs off", limitsLegsOf(o), specs, env, { db, o, data, workDir, wanted });
}

/**
 * The tracing on/off legs (the limits legs, alternated): on, the service
 * starts OpenTelemetry's SDK (instrumentation.ts) with the default sampler
 * and exports every span over OTLP/HTTP to a sink in this process, which
 * reads and drops them; off, no exporter is configured, so no SDK is loaded.
 */
async function measureTracingOnOff(db: BenchDatabase, o: BenchOptions, auth: BenchAuth, data: () => LoadData, workDir: string, wanted: (s: RowSpec) => boolean): Promise<Row[]> {
  const compared = TRACING_COMPARED.filter((c) => !o.quick || c.scenario === "get-order");
  const specs = legSpecs("tracing", tracingLabel, compared);
  if (!limitsLegsOf(o).some((leg) => specs(leg).some(wanted))) return [];
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  sink.listen(0, "127.0.0.1");
  await once(sink, "listening");
  const exporting = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
  };
  try {
    const env = (leg: LimitsLeg) => serviceEnv(db, o, auth, isOffLeg(leg) ? {} : exporting);
    return await measureLegs("tracing on vs off", limitsLegsOf(o), specs, env, { db, o, data, workDir, wanted });
  } finally {
    sink.close();
  }
}

/**
 * The relay on/off legs (the limits legs, alternated), CreateOrder only: on,
 * EVENTS_BROKER=redis (a fresh key prefix); off, no broker (the outbox rows
 * are written all the same). Each on leg's service first drains the backlog
 * the runs before it left unpublished (every earlier leg ran with no broker)
 * — the stream's entry ids time it: the relay's sustained rate — and only
 * then is measured.
 * Afterwards the stream gives the lag, commit → on the stream (entry id
 * time − event time), of the events committed during the on legs.
 */
async function measureRelayOnOff(
  db: BenchDatabase,
  o: BenchOptions,
  auth: BenchAuth,
  data: () => LoadData,
  workDir: string,
  wanted: (s: RowSpec) => boolean,
): Promise<{ rows: Row[]; figures?: RelayFigures }> {
  const specs = legSpecs("relay", relayLabel, RELAY_COMPARED);
  if (!limitsLegsOf(o).some((leg) => specs(leg).some(wanted))) return { rows: [] };
  const url = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const redis = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => undefined);
  if (!(await redis.connect().then(() => true, () => false))) {
    log(`relay on vs off: skipped, no Redis at ${url} (BENCH_REDIS_URL)`);
    return { rows: [] };
  }
  const prefix = `bench-${Date.now()}:`;
  const drains: { events: number; seconds: number }[] = [];
  const env = (leg: LimitsLeg) => serviceEnv(db, o, auth, isOffLeg(leg) ? {} : { EVENTS_BROKER: "redis", REDIS_URL: url, EVENTS_REDIS_PREFIX: prefix });
  try {
    // The lag counts the events each on leg committed after its drain (a drained backlog waited for the leg, not the relay).
    const windows: { from: number; to: number }[] = [];
    const rows = await measureLegs("relay on vs off", limitsLegsOf(o), specs, env, { db, o, data, workDir, wanted }, async (leg, child) => {
      const open = windows.at(-1);
      if (open && open.to === Infinity) open.to = Date.now();
      if (isOffLeg(leg)) return;
      await drained(child);
      windows.push({ from: Date.now(), to: Infinity });
    });
    const entries = await streamEntries(redis, `${prefix}orders`);
    const lags = entries.filter((e) => windows.some((w) => e.commitMs >= w.from && e.commitMs <= w.to)).map((e) => e.addMs - e.commitMs);
    lags.sort((a, b) => a - b);
    // Each on leg's drain: the backlog entries (committed before the leg's window) added since the previous window closed.
    windows.forEach((w, i) => {
      const since = i === 0 ? 0 : windows[i - 1].to;
      const backlog = entries.filter((e) => e.commitMs < w.from && e.addMs > since && e.addMs <= w.from);
      if (backlog.length < 100) return; // too few to time a rate
      const seconds = (backlog.at(-1)!.addMs - backlog[0].addMs) / 1000;
      drains.push({ events: backlog.length, seconds: Math.max(seconds, 0.001) });
    });
    const figures: RelayFigures = { drains, lagP50Ms: quantile(lags, 0.5), lagP99Ms: quantile(lags, 0.99), events: lags.length };
    for (const d of drains) log(`  relay drained ${d.events} waiting events in ${d.seconds.toFixed(2)} s (${(d.events / d.seconds).toFixed(0)} events/s)`);
    log(`  relay lag, commit → on the stream: p50 ${figures.lagP50Ms.toFixed(1)} ms, p99 ${figures.lagP99Ms.toFixed(1)} ms over ${lags.length} events`);
    return { rows, figures };
  } finally {
    await redis.del(`${prefix}orders`, `${prefix}inventory`).catch(() => undefined);
    redis.disconnect();
  }
}

/**
 * GetOrder (h2load: one cached order; Node generator: random orders) and
 * CreateOrder (Node generator) over gRPC with WORKERS=1 and 2, each leg a
 * freshly started service. The cluster spreads connections, not calls, so
 * both legs run at least two generator threads (a connection each; h2load
 * opens several). Postgres only (PGlite refuses a second worker); not in
 * --quick. With 2, server CPU and RSS are the primary's only (it forwards
 * connections; the workers are its children).
 */
async function measureWorkers(
  db: BenchDatabase,
  o: BenchOptions,
  auth: BenchAuth,
  data: () => LoadData,
  workDir: string,
  wanted: (s: RowSpec) => boolean,
  generators: (fixedOk: boolean) => ("h2load" | "node")[],
): Promise<Row[]> {
  const specs = legSpecs("service", (scenario, leg: "1" | "2") => `${scenario} (workers ${leg})`, [
    ...generators(true).map((generator) => ({ scenario: "get-order" as const, generator })),
    { scenario: "create-order", generator: "node" },
  ]);
  if (db.kind !== "postgres" || o.quick || !specs("2").some(wanted)) return [];
  const two = { ...o, workers: Math.max(2, o.workers) };
  const rows = await measureLegs("workers 1 vs 2", ["1", "2"] as const, specs, (leg) => serviceEnv(db, o, auth, { WORKERS: leg }), { db, o: two, data, workDir, wanted });
  return rows.map((r) => (r.id.includes("(workers 2)") ? { ...r, note: "server CPU and peak RSS: the cluster's primary only, not its two workers" } : r));
}

/** Waits until the service's relay has published every waiting event (/readyz: none waiting). */
async function drained(child: Child): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const ready = (await (await fetch(`http://127.0.0.1:${child.httpPort}/readyz`)).json()) as { events?: { orders?: { oldestWaitingSeconds: number; published: number } } };
    const relay = ready.events?.orders;
    if (relay && relay.oldestWaitingSeconds === 0 && (relay.published > 0 || performance.now() - t0 > 2000)) return;
    if (performance.now() - t0 > 600_000) throw new Error("the relay did not drain its backlog in 10 minutes");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every entry of `key`, in stream order: when Redis added it (its id's time) and when its change committed, in epoch ms. */
async function streamEntries(redis: Redis, key: string): Promise<{ addMs: number; commitMs: number }[]> {
  const out: { addMs: number; commitMs: number }[] = [];
  let from = "-";
  for (;;) {
    const entries = (await redis.xrange(key, from, "+", "COUNT", 10_000)) as [string, string[]][];
    for (const [id, f] of entries) out.push({ addMs: Number(id.split("-")[0]), commitMs: Date.parse(f[f.indexOf("time") + 1]) });
    if (entries.length < 10_000) return out;
    from = `(${entries.at(-1)![0]}`;
  }
}

const quantile = (sorted: readonly number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

/** A comparison's rows for one leg: each compared scenario and generator over gRPC, labelled with the leg. */
function legSpecs<L extends string>(
  group: RowSpec["group"],
  label: (scenario: string, leg: L) => string,
  compared: readonly { scenario: RowSpec["scenario"]; generator: RowSpec["generator"] }[],
): (leg: L) => RowSpec[] {
  return (leg) => compared.map(({ scenario, generator }) => ({ group, label: label(scenario, leg), scenario, protocol: "grpc", generator }));
}

/** One freshly started, primed service per leg, in order, measuring that leg's rows. */
async function measureLegs<L extends string>(
  title: string,
  legs: readonly L[],
  specs: (leg: L) => RowSpec[],
  envOf: (leg: L) => Record<string, string>,
  c: { db: BenchDatabase; o: BenchOptions; data: () => LoadData; workDir: string; wanted: (s: RowSpec) => boolean },
  /** Runs in each leg's started service before it is measured. */
  prepare?: (leg: L, child: Child) => Promise<void>,
): Promise<Row[]> {
  const rows: Row[] = [];
  if (!legs.some((leg) => specs(leg).some(c.wanted))) return rows;
  log(title);
  for (const leg of legs) {
    const child = await startPrimedService({ env: envOf(leg) }, c.data().tokens);
    try {
      await prepare?.(leg, child);
      for (const spec of specs(leg).filter(c.wanted)) rows.push(await measureRow(spec, targetOf(child, c.db), c.o, c.data(), c.workDir, log));
    } finally {
      await child.stop();
    }
  }
  return rows;
}

/**
 * The overload scenario (bench/lib/overload.ts) on the running service: its
 * capacity is this run's create-order row (gRPC, Node generator), measured
 * here when that row was filtered out.
 */
async function measureOverload(service: Child, db: BenchDatabase, o: BenchOptions, data: LoadData, rows: readonly Row[], workDir: string) {
  log("overload and priority");
  const spec: RowSpec = { group: "service", label: "create-order", scenario: "create-order", protocol: "grpc", generator: "node" };
  const capacityRow = rows.find((r) => r.id === rowId(spec)) ?? (await measureRow({ ...spec, label: "overload capacity (create-order)" }, targetOf(service, db), o, data, workDir, log));
  const t = targetOf(service, db);
  return runOverload(
    { baseUrl: t.grpcUrl, pid: t.pid, withPostgres: t.withPostgres, data, workers: o.workers },
    o,
    { rps: capacityRow.rps, from: capacityRow.id },
    log,
  );
}

async function runSoak(service: Child, db: BenchDatabase, o: BenchOptions, data: LoadData) {
  log(`soak: mixed profile for ${o.soakMs / 1000} s`);
  const samples: number[] = [];
  const w = measure(service.pid, db.kind === "postgres");
  const timer = setInterval(() => samples.push(rssMb(service.pid)), 1000);
  await runLoad({ scenario: "mixed", protocol: "grpc", baseUrl: `http://127.0.0.1:${service.grpcPort}`, data, workers: o.workers, concurrency: o.concurrency, warmupMs: 0, durationMs: o.soakMs });
  clearInterval(timer);
  w.stop();
  // Growth: the last minute's mean against the first minute's (after 30 s of warm-up).
  const first = samples.slice(30, 90);
  const last = samples.slice(-60);
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
  const result = { startMb: mean(first), endMb: mean(last), seconds: o.soakMs / 1000 };
  log(`  RSS ${result.startMb.toFixed(0)} MB → ${result.endMb.toFixed(0)} MB`);
  return result;
}

async function runProfiles(db: BenchDatabase, o: BenchOptions, auth: BenchAuth, data: LoadData, workDir: string, out: RunReport["profiles"]) {
  const base = join(o.outDir, "profiles");
  mkdirSync(base, { recursive: true });
  const profiled: { title: string; name: string; spec: RowSpec; server: "service" | "plain-grpc-noop" | "stack-noop" }[] = [
    { title: "plain grpc-js no-op, gRPC, h2load", name: "noop-plain", server: "plain-grpc-noop", spec: { group: "ceiling", label: "profile noop plain", scenario: "noop", protocol: "grpc", generator: "h2load" } },
    { title: "our stack no-op (Health.Check), gRPC, h2load", name: "noop-stack", server: "stack-noop", spec: { group: "ceiling", label: "profile noop stack", scenario: "noop", protocol: "grpc", generator: "h2load" } },
    { title: "GetOrder, gRPC, h2load", name: "get-order-grpc", server: "service", spec: { group: "service", label: "profile get-order", scenario: "get-order", protocol: "grpc", generator: "h2load" } },
    { title: "GetOrder, Connect JSON, h2load", name: "get-order-connect", server: "service", spec: { group: "service", label: "profile get-order", scenario: "get-order", protocol: "connect-json", generator: "h2load" } },
    { title: "CreateOrder, gRPC, Node generator", name: "create-order-grpc", server: "service", spec: { group: "service", label: "profile create-order", scenario: "create-order", protocol: "grpc", generator: "node" } },
  ];
  log("profiles (--cpu-prof)");
  for (const p of profiled) {
    const dir = join(base, p.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const spec = p.spec.generator === "h2load" && !ensureH2load(log) ? { ...p.spec, generator: "node" as const } : p.spec;
    const child =
      p.server === "service"
        ? await startPrimedService({ env: serviceEnv(db, o, auth), cpuProfDir: dir }, data.tokens)
        : await startCeilingServer(p.server, { cpuProfDir: dir });
    try {
      await measureRow(spec, targetOf(child, db), o, data, workDir, log);
    } finally {
      await child.stop();
    }
    // One profile per thread: tid 0 is the main thread (the others are tsx's loader hooks).
    const name = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    const file = name ? join(dir, name) : undefined;
    if (!file) {
      out.push({ title: p.title, file: "", markdown: `### ${p.title}\n\n(no profile written)\n` });
      continue;
    }
    // Skip start-up (module loading, migrations) so the summary covers serving.
    const summary = summariseProfile(file, child.startupMs + 500);
    out.push({ title: p.title, file: file.slice(o.outDir.length + 1), markdown: profileMarkdown(p.title, summary) });
  }
}

/** Seeds, then serves on the standard ports for ghz until interrupted, printing an admin token the service trusts. */
async function serve(db: BenchDatabase, o: BenchOptions, auth: BenchAuth, seconds: number[]): Promise<void> {
  await seed(db, o, 1, o.smallOrders, seconds);
  if (o.orders > o.smallOrders) await seed(db, o, o.smallOrders + 1, o.orders, seconds);
  const child = await startService({ env: serviceEnv(db, o, auth, { GRPC_PORT: "50051", HTTP_PORT: "8080" }) });
  const token = await auth.sign({ role: "admin", id: "bench-ghz" }, 24 * 3600);
  log(
    `serving the seeded data on 127.0.0.1:50051 (gRPC) and :8080 (Connect), trusting only this run's key; an admin token (24 h):\n` +
      `  TOKEN=${token}\ntry:\n  ghz --config bench/ghz/get-order.json --metadata "{\\"authorization\\":\\"Bearer $TOKEN\\"}"\nCtrl-C stops and drops the bench database.`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await child.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
