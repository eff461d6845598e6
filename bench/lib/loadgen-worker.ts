/**
 * One load-generator thread: its own transport (one HTTP/2 connection),
 * `concurrency` request loops, a warm-up whose results are dropped, then a
 * measured window. Latencies of calls completing inside the window and error
 * codes go back to the parent.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createClients, variedCall } from "./scenarios.js";
import type { WorkerInput, WorkerOutput } from "./loadgen.js";

const input = workerData as WorkerInput;

function transportOf(i: WorkerInput) {
  switch (i.protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl: i.baseUrl });
    case "connect-json":
      return createConnectTransport({ baseUrl: i.baseUrl, httpVersion: "2", useBinaryFormat: false });
    case "connect-json-h1":
      return createConnectTransport({ baseUrl: i.baseUrl, httpVersion: "1.1", useBinaryFormat: false });
  }
}

async function run(): Promise<WorkerOutput> {
  const clients = createClients(transportOf(input));
  const call = variedCall(input.scenario, { ...input.data, runTag: `${input.data.runTag}-w${input.workerIndex}` });
  const t0 = performance.now();
  const windowStart = t0 + input.warmupMs;
  const windowEnd = windowStart + input.durationMs;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const errors: Record<string, number> = {};
  let sampleError: string | undefined;
  let seq = 0;

  const loop = async () => {
    while (performance.now() < windowEnd) {
      const start = performance.now();
      let failed: string | undefined;
      try {
        await call(clients, seq++);
      } catch (err) {
        const ce = ConnectError.from(err);
        failed = Code[ce.code] ?? String(ce.code);
        sampleError ??= `${failed}: ${ce.rawMessage}`;
      }
      const end = performance.now();
      if (end < windowStart || end > windowEnd) continue;
      if (failed) {
        errors[failed] = (errors[failed] ?? 0) + 1;
        continue;
      }
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = end - start;
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, loop));
  return { count, latencies: latencies.slice(0, count), errors, sampleError };
}

run().then(
  (out) => parentPort!.postMessage(out, [out.latencies.buffer as ArrayBuffer]),
  (err: unknown) => {
    throw err;
  },
);

