/**
 * Rate limits end to end, with small budgets, on every way in: a grpc-js
 * client (the retry pushback arrives as a trailer), the Connect fast path
 * (raw fetch: a JSON POST answered 429 with Retry-After), connect-node (a
 * Connect GET, and a WatchOrder stream through the Connect client), and the
 * in-process transport. Each test uses principals of its own, so their
 * budgets never mix; "after the window" is waited for by polling.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { ListOrdersRequestSchema, ListOrdersResponseSchema, OrderService } from "../../gen/orders/v1/order_service_pb.js";
import type { Principal } from "../../src/kernel/principal.js";
import { ADMIN, authHeaders, bearer, customer, withPrincipal } from "../support/auth.js";
import { reasonOf, rpcFailure } from "../support/rpc-errors.js";
import { TARPIT_AFTER } from "../../src/platform/rate-limit.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";

const WINDOW_S = 3;
const READS = 3; // 1 per second over a 3 s window
let stack: TestStack;

beforeAll(async () => {
  const base = (await testConfig()).rateLimit;
  stack = await startTestStack({
    config: { rateLimit: { ...base, windowSeconds: WINDOW_S, readPerSec: 1, writePerSec: 1, watchPerSec: 1, anonymousPerSec: 1 } },
  });
});
afterAll(() => stack?.close());

const someone = (): Principal => customer(randomUUID());

/** Polls `attempt` until it resolves (a window ended), failing after 15 s. */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const retryMsOf = (err: ConnectError) => {
  const d = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return d === undefined ? undefined : Number(d.seconds) * 1000 + d.nanos / 1e6;
};

describe("over gRPC (grpc-js client)", () => {
  const listOrders = (client: grpc.Client, who: Principal, md: grpc.Metadata) =>
    new Promise<{ err?: grpc.ServiceError }>((resolve) => {
      client.makeUnaryRequest(
        "/orders.v1.OrderService/ListOrders",
        (m: { customerId: string }) => Buffer.from(toBinary(ListOrdersRequestSchema, create(ListOrdersRequestSchema, m))),
        (b: Buffer) => fromBinary(ListOrdersResponseSchema, b),
        { customerId: who.id },
        md,
        (err) => resolve({ err: err ?? undefined }),
      );
    });

  it("refuses the call after the budget with RESOURCE_EXHAUSTED, RetryInfo and grpc-retry-pushback-ms; others go on", async () => {
    const client = new grpc.Client(stack.grpcUrl.replace("http://", ""), grpc.credentials.createInsecure());
    try {
      const alice = someone();
      const md = new grpc.Metadata();
      md.set("authorization", (await authHeaders(alice)).authorization);
      for (let i = 0; i < READS; i++) expect((await listOrders(client, alice, md)).err).toBeUndefined();
      const { err } = await listOrders(client, alice, md);
      expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      const pushback = Number(err?.metadata.get("grpc-retry-pushback-ms")[0]);
      expect(pushback).toBeGreaterThan(0);
      expect(pushback).toBeLessThanOrEqual(WINDOW_S * 1000);
      const status = fromBinary(StatusSchema, err?.metadata.get("grpc-status-details-bin")[0] as Buffer);
      const types = status.details.map((d) => d.typeUrl);
      expect(types).toEqual(["type.googleapis.com/google.rpc.ErrorInfo", "type.googleapis.com/google.rpc.RetryInfo"]);
      expect(fromBinary(ErrorInfoSchema, status.details[0].value).reason).toBe("RATE_LIMITED");
      // Another principal has its own budget; the first has its own again once the window ends.
      const bob = someone();
      const bobMd = new grpc.Metadata();
      bobMd.set("authorization", (await authHeaders(bob)).authorization);
      expect((await listOrders(client, bob, bobMd)).err).toBeUndefined();
      await eventually(async () => {
        const r = await listOrders(client, alice, md);
        if (r.err) throw r.err;
      });
    } finally {
      client.close();
    }
  });
});

/** A Connect JSON ListOrders of `who`'s orders, POSTed (our fast path), with any further headers and an abort signal. */
const post = async (who: Principal, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${stack.httpUrl}/orders.v1.OrderService/ListOrders`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await authHeaders(who)), ...headers },
    body: JSON.stringify({ customerId: who.id }),
    signal,
  });

describe("over Connect (raw HTTP)", () => {
  const get = async (who: Principal) => {
    const message = encodeURIComponent(JSON.stringify({ customerId: who.id }));
    return fetch(`${stack.httpUrl}/orders.v1.OrderService/ListOrders?connect=v1&encoding=json&message=${message}`, {
      headers: await authHeaders(who),
    });
  };
  const reasonIn = async (res: Response) => {
    const body = (await res.json()) as { code: string; details: { type: string; value: string }[] };
    const info = body.details.find((d) => d.type === "google.rpc.ErrorInfo");
    return { code: body.code, reason: info && fromBinary(ErrorInfoSchema, Buffer.from(info.value, "base64")).reason };
  };

  it.each([
    ["a JSON POST (our fast path)", post],
    ["a GET (connect-node)", get],
  ])("answers %s past the budget 429 with Retry-After", async (_, call) => {
    const alice = someone();
    for (let i = 0; i < READS; i++) expect((await call(alice)).status).toBe(200);
    const refused = await call(alice);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    expect(await reasonIn(refused)).toEqual({ code: "resource_exhausted", reason: "RATE_LIMITED" });
    expect((await call(someone())).status).toBe(200);
    await eventually(async () => {
      const res = await call(alice);
      if (res.status !== 200) throw new Error(`still ${res.status}`);
    });
  });
});

describe("a caller that keeps calling through its wait (the tarpit)", () => {
  it("gets its refusals late, within its own deadline, while others are answered at once", async () => {
    const alice = someone();
    // Well past the call's own deadline below, well before the tarpit's longest hold (1 s).
    const within = () => AbortSignal.timeout(900);
    for (let i = 0; i < READS; i++) expect((await post(alice, {}, within())).status).toBe(200);
    // The first refusal and a burst of TARPIT_AFTER more are answered at once.
    for (let i = 0; i <= TARPIT_AFTER; i++) expect((await post(alice, {}, within())).status).toBe(429);
    const began = performance.now();
    const held = await post(alice, { "connect-timeout-ms": "300" }, within());
    const tookMs = performance.now() - began;
    expect(held.status).toBe(429);
    expect(held.headers.get("retry-after")).toMatch(/^[1-3]$/);
    // Held back until just before the call's deadline (300 ms less a 20 ms margin), not for the window.
    expect(tookMs).toBeGreaterThanOrEqual(250);
    // Nobody else waits for alice.
    expect((await post(someone(), {}, within())).status).toBe(200);
  });
});

describe("streams and the in-process transport", () => {
  it("counts opened WatchOrder streams (connect-node) in their own class", async () => {
    const alice = someone();
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(alice)] }));
    const open = async () => {
      // No such order: the stream ends NOT_FOUND once admitted, or RESOURCE_EXHAUSTED when not.
      return rpcFailure(
        (async () => {
          for await (const _ of orders.watchOrder({ orderId: randomUUID() })) void _;
        })(),
      );
    };
    for (let i = 0; i < READS; i++) expect((await open()).code).toBe(Code.NotFound);
    const err = await open();
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(err)).toBe("RATE_LIMITED");
    expect(retryMsOf(err)).toBeGreaterThan(0);
    // Reads are a budget of their own.
    await orders.listOrders({ customerId: alice.id });
  });

  it("limits calls made in process like any other, and never an admin", async () => {
    const alice = someone();
    const mine = createClient(OrderService, withPrincipal(stack.transport, alice));
    const admin = createClient(OrderService, withPrincipal(stack.transport, ADMIN));
    for (let i = 0; i < READS; i++) await mine.listOrders({ customerId: alice.id });
    const err = await rpcFailure(mine.listOrders({ customerId: alice.id }));
    expect([err.code, reasonOf(err)]).toEqual([Code.ResourceExhausted, "RATE_LIMITED"]);
    for (let i = 0; i < 4 * READS; i++) await admin.listOrders({ customerId: alice.id });
  });

  it("shares one budget between all anonymous callers, and never limits health checks", async () => {
    const t = createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1" });
    const catalog = createClient(InventoryService, t);
    const health = createClient(Health, t);
    const codes: Code[] = [];
    for (let i = 0; i < READS + 2; i++) {
      // No such product: NOT_FOUND once admitted.
      codes.push(await rpcFailure(catalog.getProduct({ productId: randomUUID() })).then((e) => e.code));
    }
    expect(codes).toEqual([...Array<Code>(READS).fill(Code.NotFound), Code.ResourceExhausted, Code.ResourceExhausted]);
    for (let i = 0; i < 4 * READS; i++) await health.check({ service: "" });
  });
});
