/**
 * One trace through the three services deployed apart: orders, inventory and
 * customers each run as their own process (`npm run dev`'s command, the
 * OpenTelemetry SDK loaded by instrumentation.ts), exporting OTLP/JSON to a
 * tiny sink. A CreateOrder sent with a W3C `traceparent` yields, under that
 * trace id: the orders SERVER span as a child of the caller's span, orders'
 * CLIENT spans to inventory and customers under it, and inventory's and
 * customers' SERVER spans as children of those client spans.
 *
 * On Postgres the three share one fresh database; on the embedded database
 * each has a data directory of its own (each service touches only its own
 * schema, so apart they need not share one).
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { ADMIN, customer, testAuthConfig, tokenFor } from "../support/auth.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/db.js";
import { startServiceProcess } from "../support/service-process.js";

interface ExportedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
}
const SERVER = 2;
const CLIENT = 3;

let sink: http.Server;
const spans: ExportedSpan[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];
let database: TestDatabase | undefined;

/** OTLP/JSON trace export bodies → flat spans (ids are hex in OTLP/JSON). */
function collect(body: string): void {
  const doc = JSON.parse(body) as {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
      scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[] }[];
    }[];
  };
  for (const rs of doc.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "";
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? "", name: s.name, kind: s.kind });
      }
    }
  }
}

beforeAll(async () => {
  sink = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces") collect(Buffer.concat(chunks).toString());
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  sink.listen(0, "127.0.0.1");
  await once(sink, "listening");
  if (onRealPostgres) database = await createTestDatabase();
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  sink?.close();
  await database?.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts one service as its own process, exporting to the sink; resolves with its gRPC URL once it listens. */
async function startService(name: string, extra: Record<string, string>): Promise<string> {
  const auth = await testAuthConfig();
  const dataDir = mkdtempSync(join(tmpdir(), `order-trace-${name}-`));
  dirs.push(dataDir);
  const { child, grpcUrl } = await startServiceProcess({
    otlpEndpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    dataDir,
    env: {
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
      OTEL_SERVICE_NAME: name,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      AUTH_PUBLIC_KEYS: auth.publicKeyFiles.join(","),
      AUTH_SERVICE_KEY: auth.serviceKeyFile!,
      AUTH_ISSUER: auth.issuer,
      AUTH_AUDIENCE: auth.audience,
      ...extra,
    },
  });
  children.push(child);
  return grpcUrl;
}

const withToken =
  (token: string, extra: Record<string, string> = {}): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    for (const [k, v] of Object.entries(extra)) req.header.set(k, v);
    return next(req);
  };

async function until<T>(what: string, attempt: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = attempt();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} not seen in time; spans: ${JSON.stringify(spans, null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it("follows CreateOrder from orders through customers and inventory in one trace", { timeout: 240_000 }, async () => {
  // One at a time: on a shared database the first migrates it.
  const inventoryUrl = await startService("inventory", { SERVICES: "inventory" });
  const customersUrl = await startService("customers", { SERVICES: "customers" });
  const ordersUrl = await startService("orders", { SERVICES: "orders", INVENTORY_ADDR: inventoryUrl, CUSTOMERS_ADDR: customersUrl });

  const admin = await tokenFor(ADMIN);
  const inventory = createClient(InventoryService, createGrpcTransport({ baseUrl: inventoryUrl, interceptors: [withToken(admin)] }));
  const customers = createClient(CustomerService, createGrpcTransport({ baseUrl: customersUrl, interceptors: [withToken(admin)] }));
  const { product } = await inventory.createProduct({
    sku: `trace-${Date.now()}`,
    name: "traced",
    unitPrice: { currencyCode: "EUR", amountMinor: 250n },
    initialStock: 5n,
  });
  const { customer: buyer } = await customers.createCustomer({ email: `trace${Date.now()}@example.com`, displayName: "Traced" });

  const traceId = randomBytes(16).toString("hex");
  const callerSpanId = randomBytes(8).toString("hex");
  const orders = createClient(
    OrderService,
    createGrpcTransport({
      baseUrl: ordersUrl,
      interceptors: [withToken(await tokenFor(customer(buyer!.id)), { traceparent: `00-${traceId}-${callerSpanId}-01` })],
    }),
  );
  const { order } = await orders.createOrder({ customerId: buyer!.id, requestId: `trace-${Date.now()}`, items: [{ productId: product!.id, quantity: 2 }] });
  expect(order?.lines).toHaveLength(1);

  const inTrace = () => spans.filter((s) => s.traceId === traceId);
  const root = await until("orders' CreateOrder span", () =>
    inTrace().find((s) => s.service === "orders" && s.kind === SERVER && s.name === "orders.v1.OrderService/CreateOrder"),
  );
  expect(root.parentSpanId).toBe(callerSpanId);

  // Each dependency's SERVER span hangs under an orders CLIENT span of the same method, itself under CreateOrder.
  const hop = (service: string, method: string) =>
    until(`${service} ${method}`, () => {
      const server = inTrace().find((s) => s.service === service && s.kind === SERVER && s.name === method);
      const client = server && inTrace().find((s) => s.spanId === server.parentSpanId);
      return client && { server, client };
    });
  for (const [service, method] of [
    ["inventory", "inventory.v1.InventoryService/ReserveStock"],
    ["inventory", "inventory.v1.InventoryService/CommitReservation"],
    ["customers", "customers.v1.CustomerService/GetCustomer"],
  ]) {
    const { client } = await hop(service, method);
    expect(client).toMatchObject({ service: "orders", kind: CLIENT, name: method, parentSpanId: root.spanId });
  }
  // Nothing of the call left the trace: every span it made is in it, none with a dangling parent.
  const ids = new Set(inTrace().map((s) => s.spanId).concat(callerSpanId));
  expect(inTrace().filter((s) => !ids.has(s.parentSpanId))).toEqual([]);
});
