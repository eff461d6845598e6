/**
 * The `overload` scenario: CreateOrder capacity measured in the same run
 * (the create-order scenario's closed-loop throughput), then an open loop —
 * a fixed arrival rate, 20% of calls from VIP customers, a 2 s client
 * deadline — first at a fraction of capacity (the unloaded leg, for VIP's
 * unloaded p99), then at twice capacity for long enough to be stable. Rows
 * per leg and class; targets: VIP success and p99, STANDARD shed with retry
 * hints and never INTERNAL, goodput against capacity.
 */
import type { ClassOutcome, OpenLoopInput, OpenLoopOutput } from "./open-loop-worker.js";
import type { BenchOptions } from "./options.js";
import { measure } from "./proc.js";
import type { Row, Target } from "./report.js";
import { runWorker } from "./run-worker.js";
import type { LoadData } from "./scenarios.js";
import { concat, percentiles } from "./stats.js";

export const VIP_SHARE = 0.2;
export const OVERLOAD_FACTOR = 2;
/** The "unloaded" leg: light enough that nothing queues long, heavy enough for a p99. */
export const UNLOADED_FACTOR = 0.3;
const CLIENT_DEADLINE_MS = 2000;

export interface OverloadLeg {
  readonly label: string;
  readonly offeredRps: number;
  readonly seconds: number;
  readonly vip: ClassOutcome;
  readonly standard: ClassOutcome;
  readonly serverCpuCores: number;
  readonly dbCpuCores: number;
  readonly peakRssMb: number;
}

export interface OverloadResult {
  readonly capacityRps: number;
  readonly capacityFrom: string;
  readonly unloaded: OverloadLeg;
  readonly overloaded: OverloadLeg;
}

interface LegSpec {
  readonly baseUrl: string;
  readonly pid: number;
  readonly withPostgres: boolean;
  readonly data: LoadData;
  readonly workers: number;
}

function merge(parts: readonly ClassOutcome[]): ClassOutcome {
  const errors: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
  const sum = (f: (p: ClassOutcome) => number) => parts.reduce((s, p) => s + f(p), 0);
  return { sent: sum((p) => p.sent), ok: sum((p) => p.ok), withRetryInfo: sum((p) => p.withRetryInfo), errors, latencies: concat(parts.map((p) => p.latencies)) };
}

async function runLeg(s: LegSpec, label: string, rps: number, warmupMs: number, durationMs: number): Promise<OverloadLeg> {
  const window = measure(s.pid, s.withPostgres);
  const outputs = await Promise.all(
    Array.from({ length: s.workers }, (_, workerIndex) => {
      const input: OpenLoopInput = {
        baseUrl: s.baseUrl,
        data: { ...s.data, runTag: `${s.data.runTag}-${label.replace(/\W+/g, "")}` },
        ratePerSec: rps / s.workers,
        vipShare: VIP_SHARE,
        timeoutMs: CLIENT_DEADLINE_MS,
        warmupMs,
        durationMs,
        workerIndex,
        maxInFlight: 4000,
      };
      return runWorker<OpenLoopInput, OpenLoopOutput>("./open-loop-worker.ts", input);
    }),
  );
  const proc = window.stop();
  return {
    label,
    offeredRps: rps,
    seconds: durationMs / 1000,
    vip: merge(outputs.map((o) => o.vip)),
    standard: merge(outputs.map((o) => o.standard)),
    serverCpuCores: proc.serverCpuCores,
    dbCpuCores: proc.dbCpuCores,
    peakRssMb: proc.peakRssMb,
  };
}

/** Runs both open-loop legs against a service measured at `capacityRps` CreateOrders/s. */
export async function runOverload(
  s: LegSpec,
  o: BenchOptions,
  capacity: { rps: number; from: string },
  log: (line: string) => void,
): Promise<OverloadResult> {
  // At least 30 s unloaded (VIP's p99 is the baseline: 20% of 0.3× capacity gives a few hundred samples, and one
  // stall in a shorter leg was its whole p99) and 15 s overloaded (queues settle in the first seconds); --quick: as given.
  const at = (ms: number, min: number) => (o.quick ? ms : Math.max(ms, min));
  const unloaded = await runLeg(s, "overload unloaded", capacity.rps * UNLOADED_FACTOR, o.warmupMs, at(o.durationMs, 30_000));
  logLeg(unloaded, log);
  const overloaded = await runLeg(s, "overload 2x", capacity.rps * OVERLOAD_FACTOR, at(o.warmupMs, 3000), at(2 * o.durationMs, 15_000));
  logLeg(overloaded, log);
  return { capacityRps: capacity.rps, capacityFrom: capacity.from, unloaded, overloaded };
}

function logLeg(l: OverloadLeg, log: (line: string) => void) {
  for (const [cls, c] of [["VIP", l.vip], ["STANDARD", l.standard]] as const) {
    const p = percentiles(c.latencies);
    const e = Object.entries(c.errors).map(([k, v]) => `${k}=${v}`).join(" ");
    log(`  ${`${l.label} ${cls}`.padEnd(44)} offered ${(l.offeredRps * (cls === "VIP" ? VIP_SHARE : 1 - VIP_SHARE)).toFixed(0)}/s  ok ${c.ok}/${c.sent}  p50 ${p.p50.toFixed(1)}  p99 ${p.p99.toFixed(1)} ms${e ? "  errors " + e : ""}`);
  }
}

/** One report row per leg and class (req/s: successful CreateOrders per second). */
export function overloadRows(r: OverloadResult): Row[] {
  return [r.unloaded, r.overloaded].flatMap((l) =>
    (["vip", "standard"] as const).map((cls): Row => {
      const c = l[cls];
      const p = percentiles(c.latencies);
      return {
        id: `${l.label} ${cls} grpc open-loop`,
        group: "overload",
        scenario: `${l.label} (${cls === "vip" ? "VIP" : "STANDARD"})`,
        protocol: "grpc",
        generator: "node",
        rps: c.ok / l.seconds,
        ok: c.ok,
        p50Ms: p.p50,
        p90Ms: p.p90,
        p99Ms: p.p99,
        errors: c.errors,
        serverCpuCores: l.serverCpuCores,
        dbCpuCores: l.dbCpuCores,
        peakRssMb: l.peakRssMb,
        note: `offered ${(l.offeredRps * (cls === "vip" ? VIP_SHARE : 1 - VIP_SHARE)).toFixed(0)}/s open loop, ${c.sent} sent, ${c.withRetryInfo} failures with RetryInfo`,
      };
    }),
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const status = (met: boolean): Target["status"] => (met ? "met" : "missed");

export function overloadTargets(r: OverloadResult | undefined): Target[] {
  const names = ["overload: VIP success at 2× capacity", "overload: VIP p99 at 2× vs unloaded", "overload: STANDARD shed with retry hints, never INTERNAL", "overload: goodput vs capacity"];
  if (!r || r.capacityRps <= 0) return names.map((name) => ({ name, goal: "", measured: "–", status: "not measured", detail: r ? "capacity measured 0 CreateOrders/s (a cold service in too short a window?)" : "run the overload scenario" }));
  const { vip, standard } = r.overloaded;
  const vipOk = vip.sent > 0 ? vip.ok / vip.sent : 0;
  const p99 = percentiles(vip.latencies).p99;
  const base = percentiles(r.unloaded.vip.latencies).p99;
  // Calls the generator itself held back are not the service's answers; calls let in that ran past the client's
  // deadline (DeadlineExceeded, the client's or the server's) were not shed: counted apart, in the detail.
  const count = (pred: (k: string) => boolean) => Object.entries(standard.errors).filter(([k]) => pred(k)).reduce((s, [, n]) => s + n, 0);
  const late = count((k) => k.startsWith("DeadlineExceeded"));
  const failed = count((k) => k !== "CLIENT_BACKLOG" && !k.startsWith("DeadlineExceeded"));
  const internal = Object.entries({ ...standard.errors, ...vip.errors }).filter(([k]) => k.startsWith("Internal")).reduce((s, [, n]) => s + n, 0);
  const hinted = failed > 0 ? standard.withRetryInfo / failed : 1;
  const goodput = (vip.ok + standard.ok) / r.overloaded.seconds;
  return [
    { name: names[0], goal: "≥ 99%", measured: pct(vipOk), status: status(vipOk >= 0.99), detail: `${vip.ok} of ${vip.sent} VIP CreateOrders succeeded; failures: ${JSON.stringify(vip.errors)}` },
    { name: names[1], goal: "≤ 2×", measured: `${(p99 / base).toFixed(2)}×`, status: status(p99 <= 2 * base), detail: `VIP p99 ${p99.toFixed(1)} ms at 2× vs ${base.toFixed(1)} ms at ${UNLOADED_FACTOR}× capacity` },
    { name: names[2], goal: "all hinted, 0 INTERNAL", measured: `${pct(hinted)} hinted, ${internal} INTERNAL`, status: status(hinted >= 0.999 && internal === 0), detail: `${standard.withRetryInfo} of ${failed} shed STANDARD calls carried RetryInfo; ${late} of ${standard.sent} (${pct(late / Math.max(1, standard.sent))}) were let in and outlasted their 2 s deadline; by code and reason: ${JSON.stringify(standard.errors)}` },
    { name: names[3], goal: "≥ 90%", measured: pct(goodput / r.capacityRps), status: status(goodput >= 0.9 * r.capacityRps), detail: `${goodput.toFixed(0)} successful CreateOrders/s at ${r.overloaded.offeredRps.toFixed(0)}/s offered; capacity ${r.capacityRps.toFixed(0)}/s (${r.capacityFrom})` },
  ];
}
