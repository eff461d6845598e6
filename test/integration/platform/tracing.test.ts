/**
 * Traces on the app as main.ts builds it, with tracing on and OpenTelemetry's
 * SDK registered in this process (what instrumentation.ts does in a real
 * one; here spans go to an in-memory exporter): every one of the four call
 * paths gives one SERVER span per call, under the caller's `traceparent`;
 * CreateOrder's co-hosted calls to inventory and customers are its children,
 * and each call's statements and transactions are children of that call;
 * and a log line made inside a call carries that call's trace and span ids.
 */
import { randomBytes } from "node:crypto";
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { context, propagation, trace, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { createLogger } from "../../../src/platform/logger.js";
import { ADMIN, bearer, customer } from "../../support/auth.js";
import { clientsOf } from "../../support/clients.js";
import { startTestStack, type TestStack } from "../../support/servers.js";
import { newCustomer, newProduct } from "../orders/harness.js";

const exporter = new InMemorySpanExporter();
let stack: TestStack;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  stack = await startTestStack({ config: { tracing: true } });
});
afterAll(async () => {
  await stack?.close();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** A caller's span context, sent as `traceparent` on every call of a transport. */
function callerTrace() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  const interceptor: Interceptor = (next) => (req) => {
    req.header.set("traceparent", `00-${traceId}-${spanId}-01`);
    return next(req);
  };
  return { traceId, spanId, interceptor };
}

const spansOf = (traceId: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe("tracing in wrapService", () => {
  const paths: [string, (i: Interceptor) => Transport][] = [
    ["grpc", (i) => createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(ADMIN), i] })],
    ["connect", (i) => createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(ADMIN), i] })],
    ["connect over h2", (i) => createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "2", interceptors: [bearer(ADMIN), i] })],
    ["grpc-web", (i) => createGrpcWebTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(ADMIN), i] })],
  ];

  it.each(paths)("gives a call over %s one SERVER span under the caller's trace", async (_name, transportWith) => {
    const productId = await newProduct(clientsOf(transportWith((next) => next)), 1);
    const t = callerTrace();
    await createClient(InventoryService, transportWith(t.interceptor)).getProduct({ productId });
    const spans = spansOf(t.traceId);
    expect(spans.map((s) => [s.name, s.kind, parentOf(s)])).toEqual([["inventory.v1.InventoryService/GetProduct", SpanKind.SERVER, t.spanId]]);
    expect(spans[0].attributes).toMatchObject({ "rpc.system": "grpc", "rpc.service": "inventory.v1.InventoryService", "rpc.grpc.status_code": 0 });
  });

  it("records the code of a failed call, and marks server faults only", async () => {
    const t = callerTrace();
    const inventory = createClient(InventoryService, paths[0][1](t.interceptor));
    await expect(inventory.getProduct({ productId: "3f1c8d9e-1111-4aaa-8bbb-123456789abc" })).rejects.toThrow();
    const [span] = spansOf(t.traceId);
    expect(span.attributes["rpc.grpc.status_code"]).toBe(5); // NOT_FOUND: the caller's mistake, not an error of ours
    expect(span.status.code).not.toBe(2);
  });

  it("puts CreateOrder's co-hosted calls (the in-process transport) under its span", async () => {
    const admin = clientsOf(paths[0][1]((next) => next));
    const [productId, customerId] = [await newProduct(admin, 5), await newCustomer(admin)];
    const t = callerTrace();
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(customer(customerId)), t.interceptor] }));
    await orders.createOrder({ customerId, requestId: `trace-${Date.now()}`, items: [{ productId, quantity: 1 }] });
    const spans = spansOf(t.traceId);
    const root = spans.find((s) => s.name === "orders.v1.OrderService/CreateOrder")!;
    expect(parentOf(root)).toBe(t.spanId);
    const rpcs = spans.filter((s) => s !== root && s.kind === SpanKind.SERVER);
    expect(rpcs.map((s) => s.name)).toEqual(expect.arrayContaining(["inventory.v1.InventoryService/ReserveStock", "inventory.v1.InventoryService/CommitReservation"]));
    for (const s of rpcs) {
      expect(parentOf(s)).toBe(root.spanContext().spanId);
      expect(s.attributes["rpc.transport"]).toBe("in-process");
    }
    // The database work, a span per statement or transaction under the call that ran it (postgres-js has no instrumentation).
    const db = spans.filter((s) => s.attributes["db.system.name"] === "postgresql");
    const under = (name: string) => db.filter((s) => parentOf(s) === spans.find((r) => r.name === name)?.spanContext().spanId).map((s) => s.name);
    expect(under("orders.v1.OrderService/CreateOrder")).toContain("orders_insert_order");
    expect(under("inventory.v1.InventoryService/ReserveStock").length).toBeGreaterThan(0);
    expect(db.every((s) => s.kind === SpanKind.CLIENT)).toBe(true);
  });
});

describe("log lines", () => {
  it("carry the active span's trace and span ids, and none outside a span", () => {
    const lines: string[] = [];
    const logger = createLogger("info", { write: (s: string) => void lines.push(s) }, { traceIds: true });
    const span = trace.getTracer("test").startSpan("work");
    context.with(trace.setSpan(context.active(), span), () => logger.info("inside"));
    span.end();
    logger.info("outside");
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(outside).not.toHaveProperty("trace_id");
  });
});
