/**
 * The `abusive` scenario: do rate limits protect everyone else? Normal
 * customers send a steady, paced GetOrder/CreateOrder load (paced-worker.ts)
 * alone, then while one customer offers 10× its read limit, then alone
 * again — all against one service with rate limits on. The normal p99 with
 * the abuser is compared with the mean of the two alone legs (a drift over
 * time favours neither side); the abuser's calls should be refused
 * RESOURCE_EXHAUSTED RATE_LIMITED (all but its budget), and nothing may be
 * INTERNAL.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { h2loadAvailable } from "./h2load.js";
import type { Target as ServiceTarget } from "./measure.js";
import type { BenchOptions } from "./options.js";
import type { PacedInput, PacedOutput } from "./paced-worker.js";
import type { Row, Target } from "./report.js";
import { runWorker } from "./run-worker.js";
import { fixedRequest, type LoadData } from "./scenarios.js";
import { measure } from "./proc.js";
import { percentiles } from "./stats.js";


export const ABUSE_LEGS = ["alone, before", "with abuser", "alone, after"] as const;

export interface AbuseResult {
  readonly readLimitPerSec: number;
  readonly normalRate: number;
  readonly abusiveRate: number;
  readonly abuser: {
    readonly started: number;
    readonly ok: number;
    readonly rateLimited: number;
    readonly internal: number;
    readonly failures: Record<string, number>;
    /** Calls the generator could not start (too many in flight): the server fell behind. */
    readonly skipped: number;
  };
}

/** What the scenario's service runs with: rate limits on, whatever the rest of the bench uses. */
export const abuseServiceEnv = (o: BenchOptions) => ({ RATE_LIMITS: "on", RATE_LIMIT_READ_PER_SEC: String(readLimitOf(o)) });
const readLimitOf = (o: BenchOptions) => (o.quick ? 20 : 100);
/** Well below what one service answers on the shared 2-core machine: the point is latency at a steady load, not saturation. */
const normalRateOf = (o: BenchOptions) => (o.quick ? 50 : 100);

const runPaced = (input: PacedInput) => runWorker<PacedInput, PacedOutput>("./paced-worker.ts", input);

/**
 * The abuser as h2load: Connect JSON GetOrder of customer 1's order with its
 * token, at a fixed rate. A C client keeps the abuser's own CPU small on a
 * shared machine, so the others' latency shows what the server does, not
 * what a busy Node generator beside them does. Connect errors are HTTP
 * statuses: a refusal is 429 (4xx), an INTERNAL 500 (5xx).
 */
function runAbuserH2load(httpUrl: string, data: LoadData, rate: number, o: BenchOptions, workDir: string): Promise<PacedOutput> {
  const req = fixedRequest("get-order", data);
  const body = join(workDir, "abuser-body.json");
  writeFileSync(body, req.json);
  const args = [
    "-c", "1", "-m", "64", "--rps", String(rate), "-d", body,
    "-H", "content-type: application/json", "-H", `authorization: ${req.authorization}`,
    `--warm-up-time=${Math.max(1, Math.round(o.warmupMs / 1000))}s`, "-D", String(Math.max(1, Math.round(o.durationMs / 1000))),
    httpUrl + req.path,
  ];
  return new Promise((resolve, reject) =>
    execFile("h2load", args, { maxBuffer: 16 << 20 }, (err, out) => {
      if (err) return reject(err);
      const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
      if (!codes) return reject(new Error(`h2load output lacks status codes:\n${out}`));
      const [ok, , refused, internal] = codes.slice(1).map(Number);
      const failures: Record<string, number> = {};
      if (refused) failures["ResourceExhausted RATE_LIMITED"] = refused;
      if (internal) failures["Internal (5xx)"] = internal;
      resolve({ started: ok + refused + internal, ok, latencies: new Float64Array(), failures, skipped: 0 });
    }),
  );
}

function rowOf(leg: string, out: PacedOutput, o: BenchOptions, proc: ReturnType<ReturnType<typeof measure>["stop"]>): Row {
  const lat = percentiles(out.latencies);
  const errors = { ...out.failures, ...(out.skipped ? { skipped: out.skipped } : {}) };
  return {
    id: `abusive: others (${leg}) grpc node`,
    group: "abuse",
    scenario: `abusive: others (${leg})`,
    protocol: "grpc",
    generator: "node",
    rps: out.ok / (o.durationMs / 1000),
    ok: out.ok,
    p50Ms: lat.p50,
    p90Ms: lat.p90,
    p99Ms: lat.p99,
    errors,
    serverCpuCores: proc.serverCpuCores,
    dbCpuCores: proc.dbCpuCores,
    peakRssMb: proc.peakRssMb,
    note: "paced (open loop): 90% GetOrder by the owner, 10% CreateOrder",
  };
}

export async function runAbusive(target: ServiceTarget, o: BenchOptions, data: LoadData, workDir: string, log: (s: string) => void): Promise<{ rows: Row[]; abuse: AbuseResult }> {
  const limit = readLimitOf(o);
  const normalRate = normalRateOf(o);
  const abusiveRate = 10 * limit;
  const paced = (role: PacedInput["role"], rate: number, tag: string) =>
    runPaced({ role, baseUrl: target.grpcUrl, data: { ...data, runTag: `${data.runTag}-${tag}` }, rate, warmupMs: o.warmupMs, durationMs: o.durationMs });
  log(`abusive: others at ${normalRate} calls/s; one customer at ${abusiveRate} GetOrder/s against a limit of ${limit}/s`);
  // Unmeasured: a fresh service's first calls (connections, JIT, cold pages) must not land in the first leg.
  await runPaced({ role: "normal", baseUrl: target.grpcUrl, data: { ...data, runTag: `${data.runTag}-prime` }, rate: normalRate, warmupMs: 0, durationMs: Math.max(2000, o.warmupMs) });
  const rows: Row[] = [];
  let abuser: PacedOutput | undefined;
  for (const [i, leg] of ABUSE_LEGS.entries()) {
    const window = measure(target.pid, target.withPostgres);
    const normal = paced("normal", normalRate, `n${i}`);
    if (leg === "with abuser") {
      abuser = await (h2loadAvailable() && target.httpUrl
        ? runAbuserH2load(target.httpUrl, data, abusiveRate, o, workDir)
        : paced("abusive", abusiveRate, `a${i}`));
    }
    const out = await normal;
    rows.push(rowOf(leg, out, o, window.stop()));
    const r = rows.at(-1)!;
    log(`  ${r.id.padEnd(44)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)}  p99 ${r.p99Ms.toFixed(2)} ms${Object.keys(r.errors).length ? "  errors " + JSON.stringify(r.errors) : ""}`);
  }
  const f = abuser!.failures;
  const count = (prefix: string) => Object.entries(f).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
  const abuse: AbuseResult = {
    readLimitPerSec: limit,
    normalRate,
    abusiveRate,
    abuser: { started: abuser!.ok + Object.values(f).reduce((n, v) => n + v, 0), ok: abuser!.ok, rateLimited: f["ResourceExhausted RATE_LIMITED"] ?? 0, internal: count("Internal"), failures: f, skipped: abuser!.skipped },
  };
  log(`  abuser: ${abuse.abuser.ok} answered, ${abuse.abuser.rateLimited} refused RATE_LIMITED, ${abuse.abuser.internal} INTERNAL of ${abuse.abuser.started} in the window${abuse.abuser.skipped ? ` (${abuse.abuser.skipped} not started: too many in flight)` : ""}`);
  return { rows, abuse };
}

/** The scenario's targets: the others' p99 within 20% of alone, the abuser refused, nothing INTERNAL. */
export function abuseTargets(rows: readonly Row[], abuse: AbuseResult | undefined): Target[] {
  if (!abuse) return [];
  const leg = (l: string) => rows.find((r) => r.id === `abusive: others (${l}) grpc node`);
  const alone = [leg("alone, before"), leg("alone, after")].filter((r): r is Row => r !== undefined);
  const aloneP99 = alone.reduce((s, r) => s + r.p99Ms, 0) / Math.max(1, alone.length);
  const loaded = leg("with abuser");
  const ratio = loaded ? loaded.p99Ms / aloneP99 : NaN;
  const internal = abuse.abuser.internal + rows.filter((r) => r.group === "abuse").reduce((n, r) => n + Object.entries(r.errors).filter(([k]) => k.startsWith("Internal")).reduce((m, [, v]) => m + v, 0), 0);
  const share = abuse.abuser.started > 0 ? abuse.abuser.rateLimited / abuse.abuser.started : NaN;
  const expected = 1 - abuse.readLimitPerSec / abuse.abusiveRate;
  return [
    {
      name: "others' p99 with an abusive principal vs alone",
      goal: "≤ 120%",
      measured: `${(ratio * 100).toFixed(1)}%`,
      status: !Number.isFinite(ratio) ? "not measured" : ratio <= 1.2 ? "met" : "missed",
      detail: `p99 ${loaded?.p99Ms.toFixed(2)} ms with the abuser vs ${aloneP99.toFixed(2)} ms alone (mean of ${alone.map((r) => r.p99Ms.toFixed(2)).join(" and ")})`,
    },
    {
      name: "abusive principal's calls refused RATE_LIMITED",
      goal: `≈ ${(expected * 100).toFixed(0)}% (all but its budget)`,
      measured: `${(share * 100).toFixed(1)}%`,
      status: Number.isFinite(share) && share >= expected - 0.1 ? "met" : "missed",
      detail: `${abuse.abuser.rateLimited} of ${abuse.abuser.started} calls at ${abuse.abusiveRate}/s against ${abuse.readLimitPerSec}/s`,
    },
    { name: "INTERNAL errors in the abusive scenario", goal: "0", measured: String(internal), status: internal === 0 ? "met" : "missed", detail: "" },
  ];
}
