/**
 * The in-process transport against Connect's router transport over the same
 * wrapped implementation: same answers, same error codes, reasons and details,
 * and the deadline and caller abort enforced as a client transport does.
 */
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { ASSERTED_PRINCIPAL, createDisabledAuthenticator } from "../../../src/platform/auth/authenticator.js";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createClient, createContextValues, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { CustomerService, CustomerStatus } from "../../../gen/customers/v1/customer_service_pb.js";
import { notFound } from "../../../src/kernel/errors.js";
import type { CallContext } from "../../../src/kernel/call-context.js";
import type { RpcImpl } from "../../../src/platform/rpc/handlers.js";
import { createInProcessTransport } from "../../../src/platform/rpc/in-process-transport.js";
import { createServiceRegistry } from "../../../src/platform/rpc/service-registry.js";
import { errorInfoOf, fieldViolationsOf, reasonOf } from "../../support/rpc-errors.js";

const ID = "6c8fbed2-92cf-491a-9ea8-aaf8f2773490";
let seen:
  | { actor: string; timeoutMs: number; signal?: AbortSignal; abortedDuringCall?: boolean }
  | undefined;

const impl: Partial<RpcImpl<typeof CustomerService>> = {
  async getCustomer(req, ctx: CallContext) {
    seen = { actor: ctx.actor, timeoutMs: ctx.deadline - Date.now() };
    if (req.customerId === ID) return { customer: { id: ID, email: "a@example.com", status: CustomerStatus.ACTIVE } };
    if (req.customerId.endsWith("0000000000fe")) {
      seen.signal = ctx.signal;
      seen.abortedDuringCall = ctx.signal.aborted;
      return { customer: { id: req.customerId } };
    }
    if (req.customerId.endsWith("0000000000ff")) {
      seen.signal = ctx.signal;
      await new Promise((r) => setTimeout(r, 200));
      return { customer: { id: req.customerId } };
    }
    throw notFound("CUSTOMER_NOT_FOUND", `customer ${req.customerId} not found`, { customerId: req.customerId });
  },
};

const unimplemented = async () => {
  throw new ConnectError("not in this test", Code.Unimplemented);
};
const full = Object.fromEntries(CustomerService.methods.map((m) => [m.localName, unimplemented]));
const registry = createServiceRegistry({ validator: createValidator(), logger: pino({ level: "silent" }), defaultDeadlineMs: 5000, authenticator: createDisabledAuthenticator() });
registry.register(CustomerService, { ...full, ...impl } as RpcImpl<typeof CustomerService>);
registry.seal();
const router = createRouterTransport(({ service }) => {
  for (const r of registry.registrations()) service(r.service, r.impl as never);
});
const clients = {
  router: createClient(CustomerService, router),
  direct: createClient(CustomerService, createInProcessTransport(registry)),
};

/** An in-process caller asserting a service principal (as the order module does). */
const asTester = () => createContextValues().set(ASSERTED_PRINCIPAL, servicePrincipal("tester"));

const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe("in-process transport", () => {
  it("answers as the router transport does, passing the timeout and headers", async () => {
    // Connect's router does not hand context values to the server: no asserted principal there.
    const actors = { router: "admin:auth-disabled", direct: "service:tester for alice" };
    for (const [name, client] of Object.entries(clients)) {
      const res = await client.getCustomer({ customerId: ID }, { timeoutMs: 5000, headers: { "x-actor": "alice" }, contextValues: asTester() });
      expect(res.customer).toMatchObject({ id: ID, email: "a@example.com", status: CustomerStatus.ACTIVE });
      expect(seen?.actor).toBe(actors[name as keyof typeof actors]);
      expect(seen?.timeoutMs).toBeGreaterThan(4000);
    }
  });

  it("fails with the same code, reason and details (domain errors and validation)", async () => {
    for (const customerId of ["11111111-2222-4333-8444-555555555555", "not-a-uuid"]) {
      const [viaRouter, direct] = await Promise.all([
        failure(clients.router.getCustomer({ customerId })),
        failure(clients.direct.getCustomer({ customerId })),
      ]);
      expect(direct?.code).toBe(viaRouter?.code);
      expect(direct?.rawMessage).toBe(viaRouter?.rawMessage);
      expect(reasonOf(direct!)).toBe(reasonOf(viaRouter!));
      expect(errorInfoOf(direct!)).toEqual(errorInfoOf(viaRouter!));
      expect(fieldViolationsOf(direct!)).toEqual(fieldViolationsOf(viaRouter!));
    }
  });

  it("ends the call DEADLINE_EXCEEDED at the timeout and aborts the callee's signal", async () => {
    const err = await failure(clients.direct.getCustomer({ customerId: "11111111-2222-4333-8444-0000000000ff" }, { timeoutMs: 20 }));
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(seen?.signal?.aborted).toBe(true);
  });

  it("aborts the callee's signal, as an AbortError, once an answered call is over", async () => {
    await clients.direct.getCustomer({ customerId: "11111111-2222-4333-8444-0000000000fe" });
    expect(seen?.abortedDuringCall).toBe(false);
    expect(seen?.signal?.aborted).toBe(true);
    expect((seen?.signal?.reason as Error).name).toBe("AbortError");
  });

  it("ends the call CANCELED when the caller aborts", async () => {
    const controller = new AbortController();
    const call = failure(clients.direct.getCustomer({ customerId: "11111111-2222-4333-8444-0000000000ff" }, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 10);
    expect((await call)?.code).toBe(Code.Canceled);
  });
});

describe("service registry", () => {
  const deps = { validator: createValidator(), logger: pino({ level: "silent" }), defaultDeadlineMs: 5000, authenticator: createDisabledAuthenticator() };
  const stub = { ...full, ...impl } as RpcImpl<typeof CustomerService>;

  it("is served only once sealed, and takes no services after", () => {
    const r = createServiceRegistry(deps);
    r.register(CustomerService, stub);
    expect(() => r.registrations()).toThrow(/seal/);
    expect(() => r.register(CustomerService, stub)).toThrow(/twice/);
    r.seal();
    expect(r.registrations().map((x) => x.service.typeName)).toEqual([CustomerService.typeName]);
    expect(() => r.register(CustomerService, stub)).toThrow(/sealed/);
  });

  it("lets a transport made before a service was registered call it", async () => {
    const r = createServiceRegistry(deps);
    const client = createClient(CustomerService, createInProcessTransport(r));
    r.register(CustomerService, stub);
    r.seal();
    expect((await client.getCustomer({ customerId: ID })).customer?.id).toBe(ID);
  });

  it("refuses a call made before it is sealed", async () => {
    const r = createServiceRegistry(deps);
    const client = createClient(CustomerService, createInProcessTransport(r));
    r.register(CustomerService, stub);
    await expect(client.getCustomer({ customerId: ID })).rejects.toThrow(/seal/);
  });
});
