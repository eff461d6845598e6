/**
 * Admission as wrapService applies it, through the real registry and
 * in-process transport: the slot is given back however a call ends, a stream
 * holds it only until its first message, and nested in-process calls of a
 * co-hosted module pass a full gate.
 */
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createClient, createContextValues } from "@connectrpc/connect";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { createAdmissionControl } from "../../../src/platform/admission/policy.js";
import { createTierCache } from "../../../src/platform/admission/tier-cache.js";
import { ASSERTED_PRINCIPAL, createDisabledAuthenticator } from "../../../src/platform/auth/authenticator.js";
import type { RpcImpl } from "../../../src/platform/rpc/handlers.js";
import { createInProcessTransport } from "../../../src/platform/rpc/in-process-transport.js";
import { createServiceRegistry } from "../../../src/platform/rpc/service-registry.js";

const logger = pino({ level: "silent" });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

function setUp() {
  const holds = new Map<string, ReturnType<typeof deferred>>();
  const hold = (name: string) => {
    const d = deferred();
    holds.set(name, d);
    return d;
  };
  const admission = createAdmissionControl({
    maxConcurrent: 1,
    maxQueue: 10,
    bulkPageSize: 100,
    tiers: createTierCache({ maxEntries: 10, ttlMs: 1000, lookup: undefined, logger }),
    ungatedServices: [], // Health stands in for a service doing database work
  });
  const impl: RpcImpl<typeof Health> = {
    async check(req) {
      if (req.service === "throw") throw new Error("boom");
      await holds.get(req.service)?.promise;
      return { status: Status.SERVING };
    },
    async *watch(req) {
      await holds.get(`${req.service}-first`)?.promise;
      yield { status: Status.SERVING };
      await holds.get(`${req.service}-second`)?.promise;
      yield { status: Status.NOT_SERVING };
    },
  };
  const registry = createServiceRegistry({
    validator: createValidator(),
    logger,
    defaultDeadlineMs: 5000,
    authenticator: createDisabledAuthenticator(),
    admission,
  });
  registry.register(Health, impl);
  registry.seal();
  const client = createClient(Health, createInProcessTransport(registry));
  const nested = createClient(
    Health,
    createInProcessTransport(registry, { contextValues: () => createContextValues().set(ASSERTED_PRINCIPAL, servicePrincipal("orders")) }),
  );
  return { client, nested, hold, stats: () => admission.gate.stats() };
}

describe("admission in wrapService", () => {
  it("gives the slot back when the implementation throws", async () => {
    const { client, stats } = setUp();
    for (let i = 0; i < 3; i++) {
      const err = await client.check({ service: "throw" }).catch((e: unknown) => ConnectError.from(e));
      expect(err).toMatchObject({ code: Code.Internal });
      expect(stats().inFlight).toBe(0);
    }
    await expect(client.check({ service: "" })).resolves.toMatchObject({ status: Status.SERVING });
  });

  it("queues a call while the one slot is held and runs it once the slot is free", async () => {
    const { client, hold, stats } = setUp();
    const held = hold("held");
    const first = client.check({ service: "held" });
    await until(() => stats().inFlight === 1);
    const second = client.check({ service: "" });
    await until(() => stats().queued[0] === 1);
    held.resolve();
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(stats()).toMatchObject({ inFlight: 0, queued: [0, 0, 0, 0] });
  });

  it("lets nested in-process calls of a co-hosted module through a full gate (no deadlock)", async () => {
    const { client, nested, hold, stats } = setUp();
    const held = hold("held");
    const outer = client.check({ service: "held" });
    await until(() => stats().inFlight === 1);
    // The outer call's own dependency call: it must not wait for the slot its caller holds.
    await expect(nested.check({ service: "" }, { timeoutMs: 2000 })).resolves.toMatchObject({ status: Status.SERVING });
    expect(stats()).toMatchObject({ inFlight: 1, queued: [0, 0, 0, 0] });
    held.resolve();
    await outer;
  });

  it("holds a stream's slot only until its first message", async () => {
    const { client, hold, stats } = setUp();
    const first = hold("w-first");
    hold("w-second");
    const it = client.watch({ service: "w" })[Symbol.asyncIterator]();
    const firstMessage = it.next();
    await until(() => stats().inFlight === 1);
    first.resolve();
    await expect(firstMessage).resolves.toMatchObject({ done: false, value: { status: Status.SERVING } });
    await until(() => stats().inFlight === 0);
    // The stream is still open, waiting for its second message; other calls are not held up.
    await expect(client.check({ service: "" })).resolves.toMatchObject({ status: Status.SERVING });
    await it.return?.();
  });
});
