/**
 * /metrics on the HTTP port, on the app as main.ts builds it: calls made over
 * grpc-js, Connect JSON (the fast path), gRPC-Web (connect-node) and the
 * in-process transport (the order module's nested calls) each move
 * `rpc_server_call_duration` and `grpc_server_handled_total` for their
 * method, code and transport; an error is counted under its code; the
 * endpoint wants an admin or service token. The observed metrics (pool,
 * admission, rate limits, watches, order cache) move too, and so do the
 * business counters (orders created by tier and currency, stock shortages)
 * and the database's histograms (pool waits, statement durations).
 */
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerTier } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { ADMIN, authHeaders, bearer, customer, WAREHOUSE } from "../support/auth.js";
import { clientsOver } from "../support/clients.js";
import { onRealPostgres } from "../support/db.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";

let stack: TestStack;
beforeAll(async () => {
  const config = await testConfig();
  // A customer's budget of reads is 10 per window here: the test's 12th read is refused.
  stack = await startTestStack({ config: { rateLimit: { ...config.rateLimit, readPerSec: 1, windowSeconds: 10 } } });
});
afterAll(() => stack?.close());

async function scrape(headers: Record<string, string>): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${stack.httpUrl}/metrics`, { headers });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

/** The value of the one sample of `name` whose labels include all of `labels` (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const body = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf("}")) : "";
    const has = Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`));
    if (has) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

describe("/metrics", () => {
  it("is refused without an admin or service token", async () => {
    expect((await scrape({})).status).toBe(401);
    expect((await scrape(await authHeaders(customer("11111111-1111-4111-8111-111111111111")))).status).toBe(401);
    expect((await scrape({ authorization: "Bearer not-a-token" })).status).toBe(401);
    expect((await scrape(await authHeaders(WAREHOUSE))).status).toBe(200);
  });

  it("counts calls over every transport by method, code and transport", async () => {
    const admin = await authHeaders(ADMIN);
    const before = (await scrape(admin)).text;

    // gRPC (grpc-js) and Connect JSON (the fast path): a product made over each, then read.
    const made: string[] = [];
    for (const wire of ["grpc", "connect json"] as const) {
      const { inventory } = clientsOver(stack, wire, ADMIN);
      const { product } = await inventory.createProduct({
        sku: `m-${wire.replace(" ", "-")}-${Date.now()}`,
        name: "metered",
        unitPrice: { currencyCode: "EUR", amountMinor: 100n },
        initialStock: 10n,
      });
      made.push(product!.id);
      await inventory.getProduct({ productId: product!.id });
      // An error is counted under its code.
      await expect(inventory.getProduct({ productId: "3f1c8d9e-1111-4aaa-8bbb-123456789abc" })).rejects.toThrow();
    }
    // gRPC-Web, through connect-node.
    const web = createClient(InventoryService, createGrpcWebTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(ADMIN)] }));
    await web.getProduct({ productId: made[0] });
    // CreateOrder over Connect: the order module then reserves stock in process.
    const c = await clientsOver(stack, "grpc", ADMIN).customers.createCustomer({ email: `m${Date.now()}@example.com`, displayName: "M" });
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(customer(c.customer!.id))] }));
    await orders.createOrder({ customerId: c.customer!.id, items: [{ productId: made[1], quantity: 1 }], requestId: `m-${Date.now()}` });

    const after = await scrape(admin);
    expect(after.status).toBe(200);
    expect(after.type).toMatch(/^text\/plain/);
    const moved = (name: string, labels: Record<string, string>) => sample(after.text, name, labels) - sample(before, name, labels);
    const getProduct = { grpc_service: "inventory.v1.InventoryService", grpc_method: "GetProduct", grpc_type: "unary" };
    expect(moved("grpc_server_handled_total", { ...getProduct, grpc_code: "OK", transport: "grpc" })).toBe(1);
    expect(moved("grpc_server_handled_total", { ...getProduct, grpc_code: "NotFound", transport: "grpc" })).toBe(1);
    expect(moved("grpc_server_handled_total", { ...getProduct, grpc_code: "OK", transport: "connect" })).toBe(1);
    expect(moved("grpc_server_handled_total", { ...getProduct, grpc_code: "NotFound", transport: "connect" })).toBe(1);
    expect(moved("grpc_server_handled_total", { ...getProduct, grpc_code: "OK", transport: "grpc-web" })).toBe(1);
    expect(moved("grpc_server_started_total", { ...getProduct, transport: "grpc" })).toBe(2);
    expect(moved("grpc_server_handled_total", { grpc_method: "CreateOrder", grpc_code: "OK", transport: "connect" })).toBe(1);
    expect(moved("grpc_server_handled_total", { grpc_method: "ReserveStock", grpc_code: "OK", transport: "in-process" })).toBeGreaterThanOrEqual(1);
    // The duration histogram, in seconds, by the same method, code and transport.
    const dur = { rpc_service: "inventory.v1.InventoryService", rpc_method: "GetProduct", rpc_code: "OK", rpc_transport: "connect" };
    expect(moved("rpc_server_call_duration_count", dur)).toBe(1);
    expect(moved("rpc_server_call_duration_bucket", { ...dur, le: "+Inf" })).toBe(1);
    expect(moved("rpc_server_call_duration_sum", dur)).toBeGreaterThan(0);
    expect(after.text).toContain("# TYPE rpc_server_call_duration histogram");
    expect(after.text).toContain("# TYPE grpc_server_handled_total counter");
  });

  it("reports the order cache, rate limits, open watches and admission", async () => {
    const admin = await authHeaders(ADMIN);
    const { inventory, customers } = clientsOver(stack, "grpc", ADMIN);
    const { product } = await inventory.createProduct({ sku: `w-${Date.now()}`, name: "w", unitPrice: { currencyCode: "EUR", amountMinor: 100n }, initialStock: 5n });
    const c = (await customers.createCustomer({ email: `w${Date.now()}@example.com`, displayName: "W" })).customer!;
    const transport = createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(customer(c.id))] });
    const orders = createClient(OrderService, transport);
    const { order } = await orders.createOrder({ customerId: c.id, items: [{ productId: product!.id, quantity: 1 }], requestId: `w-${Date.now()}` });
    const before = (await scrape(admin)).text;

    // Reads of one order: the first may load it, the rest are hits; past the budget of 10, refused.
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await orders.getOrder({ orderId: order!.id }).then(() => "ok", (e: unknown) => String(e)));
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    // A watch held open while scraping (as an admin: not rate limited).
    const abort = new AbortController();
    const watch = createClient(OrderService, createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "2", interceptors: [bearer(ADMIN)] }));
    const it = watch.watchOrder({ orderId: order!.id }, { signal: abort.signal })[Symbol.asyncIterator]();
    await it.next();

    const after = (await scrape(admin)).text;
    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved("order_cache_hits_total")).toBeGreaterThanOrEqual(9);
    expect(moved("rate_limited_calls_total", { method_class: "read" })).toBe(2);
    expect(moved("grpc_server_handled_total", { grpc_method: "GetOrder", grpc_code: "ResourceExhausted", transport: "connect" })).toBe(2);
    expect(sample(after, "watch_streams_open", {})).toBe(1);
    expect(sample(after, "watch_listener_up", {})).toBe(1);
    expect(after).toMatch(/^admission_calls_in_flight(\{[^}]*\})? \d+$/m);
    expect(after).toMatch(/^admission_calls_shed_total\{priority="VIP"\} \d+$/m);
    // A warehouse's reservation, expired by a sweep past its TTL; a reconciler pass with nothing to settle.
    await clientsOver(stack, "grpc", WAREHOUSE).inventory.reserveStock({ reservationId: `w-${Date.now()}`, lines: [{ productId: product!.id, quantity: 1 }] });
    expect(await stack.app.modules.inventory!.sweepExpired(new Date(Date.now() + 86_400_000))).toBe(1);
    await stack.app.modules.orders!.reconcile();
    const later = (await scrape(admin)).text;
    expect(sample(later, "reservations_expired_total", {}) - sample(before, "reservations_expired_total", {})).toBe(1);
    for (const action of ["confirmed", "cancelled", "released", "committed"]) {
      expect(later).toMatch(new RegExp(`^reconciler_orders_settled_total\\{action="${action}"\\} \\d+$`, "m"));
    }
    // The pool gate exists on Postgres only (PGlite has one connection in this process).
    if (onRealPostgres) for (const g of ["db_pool_connections_in_use", "db_pool_transactions_in_use", "db_pool_waiting"]) expect(after).toMatch(new RegExp(`^${g} \\d+$`, "m"));
    abort.abort();
    await it.next().catch(() => undefined);
  });
});

describe("/metrics, business and database", () => {
  it("counts orders created by tier and currency, stock shortages, pool waits and statement durations", async () => {
    const admin = await authHeaders(ADMIN);
    const { inventory, customers } = clientsOver(stack, "grpc", ADMIN);
    const { product } = await inventory.createProduct({ sku: `b-${Date.now()}`, name: "b", unitPrice: { currencyCode: "CHF", amountMinor: 100n }, initialStock: 3n });
    const vip = (await customers.createCustomer({ email: `v${Date.now()}@example.com`, displayName: "V", tier: CustomerTier.VIP })).customer!;
    const standard = (await customers.createCustomer({ email: `s${Date.now()}@example.com`, displayName: "S" })).customer!;
    const ordersOf = (id: string) =>
      createClient(OrderService, createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(customer(id))] }));
    const before = (await scrape(admin)).text;

    const line = [{ productId: product!.id, quantity: 1 }];
    const requestId = `b-${Date.now()}`;
    await ordersOf(vip.id).createOrder({ customerId: vip.id, items: line, requestId });
    await ordersOf(vip.id).createOrder({ customerId: vip.id, items: line, requestId }); // a replay: not counted again
    await ordersOf(standard.id).createOrder({ customerId: standard.id, items: line, requestId: `${requestId}-s` });
    // One left: two refused for stock, through CreateOrder and through ReserveStock.
    await expect(ordersOf(standard.id).createOrder({ customerId: standard.id, items: [{ productId: product!.id, quantity: 2 }], requestId: `${requestId}-x` })).rejects.toThrow(/INSUFFICIENT_STOCK|not enough stock/);
    await expect(
      clientsOver(stack, "grpc", WAREHOUSE).inventory.reserveStock({ reservationId: `b-${Date.now()}`, lines: [{ productId: product!.id, quantity: 5 }] }),
    ).rejects.toThrow(/not enough stock/);
    // A transaction: a stock change.
    await inventory.adjustStock({ productId: product!.id, delta: 1n });

    const after = (await scrape(admin)).text;
    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved("orders_created_total", { tier: "VIP", currency: "CHF" })).toBe(1);
    expect(moved("orders_created_total", { tier: "STANDARD", currency: "CHF" })).toBe(1);
    expect(moved("stock_shortages_total")).toBe(2);
    // Every CreateOrder that got past its idempotency check stored its order with this statement.
    const insert = { statement: "orders_insert_order" };
    expect(moved("db_statement_duration_seconds_count", insert)).toBe(2);
    expect(moved("db_statement_duration_seconds_bucket", { ...insert, le: "+Inf" })).toBe(2);
    expect(moved("db_statement_duration_seconds_sum", insert)).toBeGreaterThan(0);
    expect(moved("db_statement_duration_seconds_count", { statement: "inventory_change_stock_tx" })).toBe(1);
    expect(after).toContain("# TYPE db_statement_duration_seconds histogram");
    if (onRealPostgres) {
      // At least the stock change's transaction (a refused hold is one statement and a read since
      // issue 15, no transaction: it no longer waits for a pooled connection of its own).
      expect(moved("db_pool_wait_seconds_count")).toBeGreaterThanOrEqual(1);
      expect(sample(after, "db_pool_wait_seconds_bucket", { le: "+Inf" })).toBe(sample(after, "db_pool_wait_seconds_count", {}));
    } else {
      expect(after).not.toContain("db_pool_wait_seconds");
    }
  });
});
