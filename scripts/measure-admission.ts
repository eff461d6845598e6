/**
 * What priority admission costs a call when the gate is not saturated (its
 * fast path: a comparison and an increment), in process with no I/O:
 * Health.Check through wrapService and the in-process transport, with the
 * gate off and on (Health counted as gated here, as a database method would
 * be), sequential and 32 in flight; and the gate's tryEnter/leave pair alone.
 * Runs interleaved, several rounds, and prints the medians.
 *
 *   npx tsx scripts/measure-admission.ts
 */
import { createValidator } from "@bufbuild/protovalidate";
import { createClient } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { createGate } from "../src/platform/admission/gate.js";
import { createAdmissionControl } from "../src/platform/admission/policy.js";
import { createTierCache } from "../src/platform/admission/tier-cache.js";
import { createDisabledAuthenticator } from "../src/platform/auth/authenticator.js";
import { createHealthRegistry, ServingStatus } from "../src/platform/health.js";
import { createInProcessTransport } from "../src/platform/rpc/in-process-transport.js";
import { createLogger } from "../src/platform/logger.js";
import { createServiceRegistry } from "../src/platform/rpc/service-registry.js";

const logger = createLogger("silent");

function client(gated: boolean) {
  const tiers = createTierCache({ maxEntries: 10, ttlMs: 60_000, lookup: undefined, logger });
  const admission = gated
    ? createAdmissionControl({ maxConcurrent: 1000, maxQueue: 1000, bulkPageSize: 100, tiers, ungatedServices: [] })
    : undefined;
  const registry = createServiceRegistry({ validator: createValidator(), logger, defaultDeadlineMs: 5000, authenticator: createDisabledAuthenticator(), admission });
  const health = createHealthRegistry([]);
  health.setAll(ServingStatus.SERVING);
  registry.register(Health, health.impl);
  registry.seal();
  return createClient(Health, createInProcessTransport(registry));
}

async function usPerCall(c: ReturnType<typeof client>, calls: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < calls) await c.check({ service: "" });
    }),
  );
  return ((performance.now() - t0) * 1000) / calls;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = client(false);
const on = client(true);
const calls = 50_000;
for (const inFlight of [1, 32]) {
  await usPerCall(off, calls / 5, inFlight);
  await usPerCall(on, calls / 5, inFlight);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 7; round++) {
    a.push(await usPerCall(off, calls, inFlight));
    b.push(await usPerCall(on, calls, inFlight));
  }
  console.log(`Health.Check in process, ${inFlight} in flight: gate off ${median(a).toFixed(2)} µs, on ${median(b).toFixed(2)} µs per call (+${(median(b) - median(a)).toFixed(2)} µs)`);
}
const gate = createGate({ maxConcurrent: 1000, maxQueue: 1000 });
const n = 5_000_000;
for (let i = 0; i < n / 10; i++) gate.leave(gate.tryEnter());
const t0 = performance.now();
for (let i = 0; i < n; i++) gate.leave(gate.tryEnter());
console.log(`gate tryEnter + leave alone: ${(((performance.now() - t0) * 1e6) / n).toFixed(0)} ns per call`);
