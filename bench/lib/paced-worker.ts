/**
 * An open-loop load generator thread for the `abusive` scenario: calls
 * start at a fixed rate whatever the answers' latency (a closed loop would
 * slow down with the server and hide a latency rise). `normal`: GetOrder by
 * the order's owner (90%) and CreateOrder by a random customer (10%), every
 * customer but the abuser, each far below its limits. `abusive`: customer 1
 * asking for its own order over and over. Returns the latencies of the calls
 * that succeeded inside the measured window and the failures by code and
 * reason.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { orderId, orderOwner } from "./ids.js";
import { bearer, createClients, createOrderRequest, type LoadData } from "./scenarios.js";

export interface PacedInput {
  readonly role: "normal" | "abusive";
  readonly baseUrl: string;
  readonly data: LoadData;
  /** Calls started per second. */
  readonly rate: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface PacedOutput {
  readonly started: number;
  readonly ok: number;
  readonly latencies: Float64Array;
  /** "CODE REASON" → count, measured window only. */
  readonly failures: Record<string, number>;
  /** Calls not started because 512 were already in flight (the generator fell behind). */
  readonly skipped: number;
}

const ABUSER = 1;
const MAX_IN_FLIGHT = 512;
const input = workerData as PacedInput;

function callOf(i: PacedInput) {
  const c = createClients(createGrpcTransport({ baseUrl: i.baseUrl }));
  const d = i.data;
  const as: CallOptions[] = d.tokens.map((t) => ({ headers: bearer(t) }));
  const int = (n: number) => 1 + Math.floor(Math.random() * n);
  if (i.role === "abusive") return () => c.orders.getOrder({ orderId: orderId(1) }, as[orderOwner(1, d.firstBatch, d.customers) - 1]);
  const tag = { ...d, runTag: `${d.runTag}-paced` };
  return (seq: number) => {
    if (seq % 10 === 9) {
      const who = 1 + int(d.customers - 1); // never the abuser
      return c.orders.createOrder(createOrderRequest(tag, seq, who), as[who - 1]);
    }
    let o = int(d.orders);
    while (orderOwner(o, d.firstBatch, d.customers) === ABUSER) o = int(d.orders);
    return c.orders.getOrder({ orderId: orderId(o) }, as[orderOwner(o, d.firstBatch, d.customers) - 1]);
  };
}

const failureOf = (err: unknown) => {
  const ce = ConnectError.from(err);
  const reason = ce.findDetails(ErrorInfoSchema)[0]?.reason ?? "";
  return `${Code[ce.code] ?? ce.code} ${reason}`.trim();
};

async function run(): Promise<PacedOutput> {
  const call = callOf(input);
  const t0 = performance.now();
  const windowStart = t0 + input.warmupMs;
  const windowEnd = windowStart + input.durationMs;
  let latencies = new Float64Array(1 << 14);
  let ok = 0;
  let started = 0;
  let skipped = 0;
  let inFlight = 0;
  const failures: Record<string, number> = {};
  const one = async (seq: number) => {
    const start = performance.now();
    let failed: string | undefined;
    inFlight++;
    try {
      await call(seq);
    } catch (err) {
      failed = failureOf(err);
    }
    inFlight--;
    const end = performance.now();
    if (start < windowStart || end > windowEnd) return;
    if (failed) {
      failures[failed] = (failures[failed] ?? 0) + 1;
      return;
    }
    if (ok === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[ok++] = end - start;
  };
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= windowEnd) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor(((now - t0) / 1000) * input.rate);
      for (; started < due; started++) {
        if (inFlight >= MAX_IN_FLIGHT) skipped++;
        else void one(started);
      }
    }, 2);
  });
  // Let the last calls finish (they are outside the window and not counted).
  const end = Date.now() + 5000;
  while (inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return { started, ok, latencies: latencies.slice(0, ok), failures, skipped };
}

run().then(
  (out) => parentPort!.postMessage(out, [out.latencies.buffer as ArrayBuffer]),
  (err: unknown) => {
    throw err;
  },
);
