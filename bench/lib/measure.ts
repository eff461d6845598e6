/** Runs one load and wraps it, with the server's /proc figures, into a result row. */
import { runH2load, type H2Protocol } from "./h2load.js";
import { runLoad, type Protocol } from "./loadgen.js";
import { measure } from "./proc.js";
import type { Row } from "./report.js";
import { fixedRequest, type LoadData, type ScenarioName } from "./scenarios.js";
import type { BenchOptions } from "./options.js";

export interface Target {
  readonly pid: number;
  readonly grpcUrl: string;
  readonly httpUrl?: string;
  readonly withPostgres: boolean;
}

export interface RowSpec {
  readonly group: Row["group"];
  readonly label: string;
  readonly scenario: ScenarioName;
  readonly protocol: H2Protocol;
  readonly generator: "node" | "h2load";
}

export const rowId = (s: { label: string; protocol: string; generator: string }) => `${s.label} ${s.protocol} ${s.generator}`;

export async function measureRow(
  spec: RowSpec,
  target: Target,
  opts: BenchOptions,
  data: LoadData,
  workDir: string,
  log: (s: string) => void,
): Promise<Row> {
  const baseUrl = spec.protocol === "grpc" ? target.grpcUrl : target.httpUrl!;
  const window = measure(target.pid, target.withPostgres);
  let result: { ok: number; rps: number; latency: { p50: number; p90: number; p99: number }; errors: Record<string, number>; note?: string; sampleError?: string };
  if (spec.generator === "h2load") {
    const clients = Math.max(1, Math.min(8, Math.round(opts.concurrency / 8)));
    result = await runH2load({
      baseUrl,
      request: fixedRequest(spec.scenario, data),
      protocol: spec.protocol,
      clients,
      streams: Math.max(1, Math.round(opts.concurrency / clients)),
      warmupMs: opts.warmupMs,
      durationMs: opts.durationMs,
      workDir,
    });
  } else {
    result = await runLoad({
      scenario: spec.scenario,
      protocol: spec.protocol as Protocol,
      baseUrl,
      data,
      workers: opts.workers,
      concurrency: opts.concurrency,
      warmupMs: opts.warmupMs,
      durationMs: opts.durationMs,
    });
  }
  const proc = window.stop();
  const row: Row = {
    id: rowId(spec),
    group: spec.group,
    scenario: spec.label,
    protocol: spec.protocol,
    generator: spec.generator,
    rps: result.rps,
    ok: result.ok,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    errors: result.errors,
    serverCpuCores: proc.serverCpuCores,
    dbCpuCores: proc.dbCpuCores,
    peakRssMb: proc.peakRssMb,
    note: result.note ?? result.sampleError,
  };
  const e = Object.entries(row.errors).map(([k, v]) => `${k}=${v}`).join(" ");
  log(
    `  ${row.id.padEnd(44)} ${row.rps.toFixed(0).padStart(7)} req/s  p50 ${row.p50Ms.toFixed(2)}  p99 ${row.p99Ms.toFixed(2)} ms  cpu ${proc.serverCpuCores.toFixed(2)}  rss ${proc.peakRssMb.toFixed(0)} MB${e ? "  errors " + e : ""}${row.note ? "  (" + row.note + ")" : ""}`,
  );
  return row;
}
