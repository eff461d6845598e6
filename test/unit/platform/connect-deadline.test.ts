/**
 * connect-timeout-ms on the Connect fast path (connect-unary.ts) and on
 * connect-node, for the same request to the same wrapped implementation
 * (wrapService with the real, disabled-mode authenticator): when the
 * deadline passes before the implementation answers, both answer
 * deadline_exceeded (ErrorInfo DEADLINE_EXCEEDED) then — not the late
 * success — and both abort the signal the implementation sees.
 */
import { createValidator } from "@bufbuild/protovalidate";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import type { CallContext } from "../../../src/kernel/call-context.js";
import { createDisabledAuthenticator } from "../../../src/platform/auth/authenticator.js";
import type { RpcImpl } from "../../../src/platform/rpc/handlers.js";
import { createHttpHandler, createHttpServer, type HttpServer } from "../../../src/platform/rpc/http-server.js";
import { createServiceRegistry } from "../../../src/platform/rpc/service-registry.js";

const SLOW = "00000000-0000-4000-8000-0000000000aa";
const FAST = "00000000-0000-4000-8000-0000000000bb";

/** Calls of the slow method still running; each resolves once the test lets it finish. */
const running = new Map<string, { release: () => void; aborted: Promise<boolean> }>();

function slowImpl(id: string, cx: CallContext) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  // Already aborted when a loaded machine took the whole deadline before the implementation ran.
  const aborted = new Promise<boolean>((resolve) =>
    cx.signal.aborted ? resolve(true) : cx.signal.addEventListener("abort", () => resolve(true)),
  );
  running.set(id, { release, aborted });
  return done.then(() => ({ customer: { id, displayName: "late" } }));
}

let tag = 0;
const impl = {
  getCustomer: (req: { customerId: string }, cx: CallContext) =>
    req.customerId === SLOW ? slowImpl(`${++tag}`, cx) : { customer: { id: req.customerId, displayName: "quick" } },
  createCustomer: () => ({}),
  listCustomers: () => ({}),
  updateCustomer: () => ({}),
} as unknown as RpcImpl<typeof CustomerService>;

const servers: HttpServer[] = [];
const urls: Record<"fast" | "node", string> = { fast: "", node: "" };

beforeAll(async () => {
  const registry = createServiceRegistry({
    validator: createValidator(),
    logger: pino({ level: "silent" }),
    defaultDeadlineMs: 60_000,
    authenticator: createDisabledAuthenticator(),
  });
  registry.register(CustomerService, impl);
  registry.seal();
  for (const path of ["fast", "node"] as const) {
    const s = createHttpServer(
      createHttpHandler(registry.registrations(), { maxReceiveMessageBytes: 4096, ready: () => true, connectFastPath: path === "fast" }),
    );
    servers.push(s);
    urls[path] = `http://127.0.0.1:${await s.listen("127.0.0.1", 0)}`;
  }
});

afterAll(async () => {
  running.forEach((r) => r.release());
  await Promise.all(servers.map((s) => s.close()));
});

async function call(url: string, customerId: string, timeoutMs?: number) {
  const res = await fetch(`${url}/customers.v1.CustomerService/GetCustomer`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(timeoutMs === undefined ? {} : { "connect-timeout-ms": String(timeoutMs) }) },
    body: JSON.stringify({ customerId }),
  });
  return { status: res.status, body: await res.text() };
}

describe("connect-timeout-ms", () => {
  it("answers deadline_exceeded when it passes, on the fast path as on connect-node, and aborts the signal", async () => {
    const outcomes = [];
    for (const path of ["fast", "node"] as const) {
      const before = tag;
      const outcome = await call(urls[path], SLOW, 150);
      // Answered while the implementation had not finished yet (it waits for the test).
      expect(running.size).toBe(before + 1);
      const late = running.get(`${before + 1}`)!;
      expect(await late.aborted).toBe(true);
      late.release();
      outcomes.push(outcome);
    }
    const [fast, node] = outcomes;
    expect(fast).toEqual(node);
    expect(fast.status).toBe(504);
    const body = JSON.parse(fast.body) as { code: string; details?: { type: string }[] };
    expect(body.code).toBe("deadline_exceeded");
    expect(body.details?.[0]?.type).toBe("google.rpc.ErrorInfo");
  });

  it("leaves a call that answers in time alone, on both paths", async () => {
    const fast = await call(urls.fast, FAST, 5000);
    const node = await call(urls.node, FAST, 5000);
    expect(fast).toEqual(node);
    expect(fast.status).toBe(200);
    expect(JSON.parse(fast.body)).toEqual({ customer: { id: FAST, displayName: "quick" } });
  });
});
