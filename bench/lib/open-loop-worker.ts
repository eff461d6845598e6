/**
 * One open-loop generator thread for the overload scenario: CreateOrder at a
 * fixed arrival rate whatever the service answers (a closed loop would slow
 * down with the service and never overload it), `vipShare` of them from VIP
 * customers, each with a client deadline. Calls are counted by arrival: a
 * call sent inside the measured window counts, however late it ends. Per
 * class: latencies of successes, failures by `CODE REASON`, and how many
 * failures carried a google.rpc.RetryInfo.
 *
 * Each class has its own connections, enough that calls never queue in the
 * client for an HTTP/2 stream (MAX_CONCURRENT_STREAMS is 100 by default):
 * VIP and STANDARD customers are different clients, and one shared
 * connection would make a VIP call wait for a stream behind STANDARD calls
 * the server holds in its queue — measuring the client, not the service's
 * priority.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Code, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { bearer, createClients, createOrderRequest, type LoadData } from "./scenarios.js";
import { VIP_EVERY } from "./seed.js";

export interface OpenLoopInput {
  readonly baseUrl: string;
  readonly data: LoadData;
  readonly ratePerSec: number;
  readonly vipShare: number;
  readonly timeoutMs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly workerIndex: number;
  /** Calls in flight beyond this are not sent (counted as `CLIENT_BACKLOG`): the generator must not melt down itself. */
  readonly maxInFlight: number;
}

export interface ClassOutcome {
  sent: number;
  ok: number;
  latencies: Float64Array;
  errors: Record<string, number>;
  withRetryInfo: number;
}

export type OpenLoopOutput = Record<"vip" | "standard", ClassOutcome>;

const input = workerData as OpenLoopInput;
const TICK_MS = 2;
const STREAMS_PER_CONNECTION = 50;

function outcome(): ClassOutcome & { n: number } {
  return { sent: 0, ok: 0, latencies: new Float64Array(1 << 14), errors: {}, withRetryInfo: 0, n: 0 };
}

function push(o: ClassOutcome & { n: number }, ms: number) {
  if (o.n === o.latencies.length) {
    const bigger = new Float64Array(o.n * 2);
    bigger.set(o.latencies);
    o.latencies = bigger;
  }
  o.latencies[o.n++] = ms;
}

async function run(): Promise<OpenLoopOutput> {
  const d = { ...input.data, runTag: `${input.data.runTag}-ol${input.workerIndex}` };
  // Streams each class may have open at once (its arrivals over one deadline), at most half a connection's limit per connection.
  const pool = (rate: number) => {
    const n = Math.max(2, Math.ceil((rate * input.timeoutMs) / 1000 / STREAMS_PER_CONNECTION));
    const all = Array.from({ length: n }, () => createClients(createGrpcTransport({ baseUrl: input.baseUrl })));
    let next = 0;
    return () => all[next++ % n];
  };
  const clientsOf = { vip: pool(input.ratePerSec * input.vipShare), standard: pool(input.ratePerSec * (1 - input.vipShare)) };
  const headers = d.tokens.map((t) => bearer(t));
  const vipCount = Math.floor(d.customers / VIP_EVERY);
  const pick = (vip: boolean) => {
    if (vip) return VIP_EVERY * (1 + Math.floor(Math.random() * vipCount));
    for (;;) {
      const i = 1 + Math.floor(Math.random() * d.customers);
      if (i % VIP_EVERY !== 0) return i;
    }
  };
  const classes = { vip: outcome(), standard: outcome() };
  const t0 = performance.now();
  const windowStart = t0 + input.warmupMs;
  const windowEnd = windowStart + input.durationMs;
  let issued = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  const send = (seq: number) => {
    const vip = Math.random() < input.vipShare;
    const o = vip ? classes.vip : classes.standard;
    const start = performance.now();
    const counted = start >= windowStart && start < windowEnd;
    if (counted) o.sent++;
    if (inFlight >= input.maxInFlight) {
      if (counted) o.errors.CLIENT_BACKLOG = (o.errors.CLIENT_BACKLOG ?? 0) + 1;
      return;
    }
    const who = pick(vip);
    inFlight++;
    const p = (vip ? clientsOf.vip : clientsOf.standard)().orders.createOrder(createOrderRequest(d, seq, who), { headers: headers[who - 1], timeoutMs: input.timeoutMs }).then(
      () => {
        if (!counted) return;
        o.ok++;
        push(o, performance.now() - start);
      },
      (err: unknown) => {
        if (!counted) return;
        const ce = ConnectError.from(err);
        const reason = ce.findDetails(ErrorInfoSchema)[0]?.reason ?? "-";
        const key = `${Code[ce.code] ?? ce.code} ${reason}`;
        if (!o.errors[key] && process.env.BENCH_DEBUG) console.error(key, ce.message);
        o.errors[key] = (o.errors[key] ?? 0) + 1;
        if (ce.findDetails(RetryInfoSchema).length > 0) o.withRetryInfo++;
      },
    );
    const tracked = p.finally(() => {
      inFlight--;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= windowEnd) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor((input.ratePerSec * (now - t0)) / 1000);
      while (issued < due) send(issued++);
    }, TICK_MS);
  });
  await Promise.all(pending);
  const cut = (o: ClassOutcome & { n: number }): ClassOutcome => ({ ...o, latencies: o.latencies.slice(0, o.n) });
  return { vip: cut(classes.vip), standard: cut(classes.standard) };
}

run().then(
  (out) => parentPort!.postMessage(out, [out.vip.latencies.buffer as ArrayBuffer, out.standard.latencies.buffer as ArrayBuffer]),
  (err: unknown) => {
    throw err;
  },
);
