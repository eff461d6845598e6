/**
 * The Node load generator: worker threads each running generated Connect
 * clients (gRPC or Connect JSON transport) in a closed loop. Returns
 * throughput over the measured window, latency percentiles and errors by
 * code; failed calls never count as throughput. The customers' tokens are
 * minted once by the parent and travel to the workers with the data
 * (LoadData); each call carries its caller's (scenarios.ts).
 */
import { runWorker } from "./run-worker.js";
import type { LoadData, ScenarioName } from "./scenarios.js";
import { concat, percentiles, type Latency } from "./stats.js";

export type Protocol = "grpc" | "connect-json" | "connect-json-h1";

export interface WorkerInput {
  readonly scenario: ScenarioName;
  readonly protocol: Protocol;
  readonly baseUrl: string;
  readonly data: LoadData;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly workerIndex: number;
}

export interface WorkerOutput {
  readonly count: number;
  readonly latencies: Float64Array;
  readonly errors: Record<string, number>;
  readonly sampleError?: string;
}

export interface LoadResult {
  readonly ok: number;
  readonly rps: number;
  readonly latency: Latency;
  readonly errors: Record<string, number>;
  readonly sampleError?: string;
}

export interface LoadOptions {
  readonly scenario: ScenarioName;
  readonly protocol: Protocol;
  readonly baseUrl: string;
  readonly data: LoadData;
  readonly workers: number;
  /** In-flight calls in total (split over workers). */
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const per = Math.max(1, Math.round(o.concurrency / o.workers));
  const outputs = await Promise.all(
    Array.from({ length: o.workers }, (_, workerIndex) => {
      const input: WorkerInput = {
        scenario: o.scenario,
        protocol: o.protocol,
        baseUrl: o.baseUrl,
        data: o.data,
        concurrency: per,
        warmupMs: o.warmupMs,
        durationMs: o.durationMs,
        workerIndex,
      };
      return runWorker<WorkerInput, WorkerOutput>("./loadgen-worker.ts", input);
    }),
  );
  const errors: Record<string, number> = {};
  for (const out of outputs) for (const [k, v] of Object.entries(out.errors)) errors[k] = (errors[k] ?? 0) + v;
  const ok = outputs.reduce((n, out) => n + out.count, 0);
  return {
    ok,
    rps: ok / (o.durationMs / 1000),
    latency: percentiles(concat(outputs.map((x) => x.latencies))),
    errors,
    sampleError: outputs.find((x) => x.sampleError)?.sampleError,
  };
}
