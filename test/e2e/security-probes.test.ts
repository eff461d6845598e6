/**
 * The probes of the identity issue, as regression tests on real ports, over
 * gRPC and Connect JSON: each was observed to succeed (or answer INTERNAL)
 * against an anonymous service, and must now be refused or get a typed
 * error — and leave nothing behind.
 */
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService, CustomerStatus } from "../../gen/customers/v1/customer_service_pb.js";
import { OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../src/kernel/principal.js";
import { orderIdFor, reservationIdFor } from "../../src/orders/domain/new-order.js";
import { ADMIN, authHeaders, customer, STAFF, WAREHOUSE } from "../support/auth.js";
import { clientsOver, WIRES, type Clients } from "../support/clients.js";
import { errorInfoOf, fieldViolationsOf, reasonOf, rpcFailure } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";
import { rawGrpc } from "../support/wire.js";

let stack: TestStack;
let adminHeaders: Record<string, string>;
beforeAll(async () => {
  stack = await startTestStack();
  adminHeaders = await authHeaders(ADMIN);
});
afterAll(async () => {
  await stack?.close();
});

let seq = 0;
const unique = () => `${Date.now().toString(36)}-${seq++}`;

async function fixture(admin: Clients, stock = 500n, price = 1200n) {
  const { product } = await admin.inventory.createProduct({
    sku: `PROBE-${unique()}`,
    name: "Mug",
    unitPrice: { currencyCode: "USD", amountMinor: price },
    initialStock: stock,
  });
  const { customer: c } = await admin.customers.createCustomer({ email: `probe-${unique()}@example.com`, displayName: "Victim" });
  return { productId: product!.id, customerId: c!.id };
}

async function failure(p: Promise<unknown>) {
  const err = await rpcFailure(p);
  return { code: Code[err.code], reason: reasonOf(err), err };
}

describe.each(WIRES)("over %s", (wire) => {
  const as = (p?: Parameters<typeof clientsOver>[2]) => clientsOver(stack, wire, p);

  it("refuses anonymous reads of orders and customers", async () => {
    const anon = as();
    expect(await failure(anon.orders.listOrders({ pageSize: 2 }))).toMatchObject({ code: "Unauthenticated", reason: "CREDENTIALS_REQUIRED" });
    expect(await failure(anon.customers.listCustomers({}))).toMatchObject({ code: "Unauthenticated", reason: "CREDENTIALS_REQUIRED" });
  });

  it("never lets a customer list other customers or their orders", async () => {
    const admin = as(ADMIN);
    const a = await fixture(admin);
    const b = await fixture(admin);
    await admin.orders.createOrder({ customerId: b.customerId, requestId: "b-1", items: [{ productId: b.productId, quantity: 1 }] });
    const alice = as(customer(a.customerId));
    expect(await failure(alice.customers.listCustomers({}))).toMatchObject({ code: "PermissionDenied", reason: "ROLE_NOT_PERMITTED" });
    expect((await alice.orders.listOrders({ pageSize: 50 })).orders).toEqual([]);
    expect((await alice.orders.listOrders({ customerId: b.customerId })).orders).toEqual([]);
  });

  it("keeps a sold order's stock sold: nobody but the order module can release its reservation", async () => {
    const admin = as(ADMIN);
    const { productId, customerId } = await fixture(admin);
    const { order } = await admin.orders.createOrder({ customerId, requestId: "r-1", items: [{ productId, quantity: 1 }] });
    const reservationId = reservationIdFor(order!.id, 0);
    for (const p of [undefined, customer(customerId), STAFF, ADMIN]) {
      const { code } = await failure(as(p).inventory.releaseReservation({ reservationId }));
      expect(code).toBe(p ? "PermissionDenied" : "Unauthenticated");
    }
    expect(await failure(as(WAREHOUSE).inventory.releaseReservation({ reservationId }))).toMatchObject({ code: "NotFound", reason: "RESERVATION_NOT_FOUND" });
    expect((await admin.inventory.getProduct({ productId })).product).toMatchObject({ stockOnHand: 499n, reserved: 0n });
    expect((await admin.orders.getOrder({ orderId: order!.id })).order?.status).toBe(OrderStatus.CONFIRMED);
  });

  it("keeps each service's reservations its own: another service's Get, Commit and Release are NOT_FOUND", async () => {
    const admin = as(ADMIN);
    const { productId } = await fixture(admin, 10n);
    const reservationId = `own-${unique()}`;
    await as(WAREHOUSE).inventory.reserveStock({ reservationId, lines: [{ productId, quantity: 2 }] });
    const billing = as(servicePrincipal("billing")).inventory;
    // One call at a time: a rejection must not sit unhandled while an earlier one is awaited.
    for (const call of [() => billing.getReservation({ reservationId }), () => billing.commitReservation({ reservationId }), () => billing.releaseReservation({ reservationId })]) {
      expect(await failure(call())).toMatchObject({ code: "NotFound", reason: "RESERVATION_NOT_FOUND" });
    }
    expect((await as(WAREHOUSE).inventory.getReservation({ reservationId })).reservation?.lines[0]?.quantity).toBe(2);
    expect((await admin.inventory.getProduct({ productId })).product).toMatchObject({ stockOnHand: 10n, reserved: 2n });
  });

  it("cannot squat an order's reservation id: the victim's order goes through", async () => {
    const admin = as(ADMIN);
    const { productId, customerId } = await fixture(admin, 10n);
    const requestId = `victim-${unique()}`;
    const squatted = reservationIdFor(orderIdFor(customerId, requestId), 0);
    const lines = [{ productId, quantity: 1 }];
    expect((await failure(as(customer(customerId)).inventory.reserveStock({ reservationId: squatted, lines }))).code).toBe("PermissionDenied");
    // A service may reserve under that id: in its own namespace, which is not the order module's.
    await as(WAREHOUSE).inventory.reserveStock({ reservationId: squatted, lines, ttl: { seconds: 86400n } });
    const { order } = await as(customer(customerId)).orders.createOrder({ customerId, requestId, items: [{ productId, quantity: 2 }] });
    expect(order?.status).toBe(OrderStatus.CONFIRMED);
    expect((await admin.inventory.getProduct({ productId })).product).toMatchObject({ stockOnHand: 8n, reserved: 1n });
  });

  it("writes the verified principal into history, whatever x-actor says", async () => {
    const admin = as(ADMIN);
    const { productId, customerId } = await fixture(admin);
    const me = as(customer(customerId));
    const { order } = await me.orders.createOrder(
      { customerId, requestId: "x-1", items: [{ productId, quantity: 1 }] },
      { headers: { "x-actor": "system:reconciler" } },
    );
    const cancelled = await me.orders.cancelOrder({ orderId: order!.id }, { headers: { "x-actor": "system:reconciler" } });
    expect(cancelled.order?.history.map((h) => h.actor)).toEqual([`customer:${customerId}`, `customer:${customerId}`, `customer:${customerId}`]);
    // From a service it is on-behalf-of, bounded: a huge one is refused before anything is written.
    const huge = await failure(
      as(WAREHOUSE).orders.createOrder({ customerId, requestId: "x-2", items: [{ productId, quantity: 1 }] }, { headers: { "x-actor": "a".repeat(300) } }),
    );
    expect(huge).toMatchObject({ code: "InvalidArgument", reason: "INVALID_ACTOR" });
    expect((await admin.orders.listOrders({ customerId })).orders).toHaveLength(1);
    // Headers past MAX_HEADER_BYTES never reach a handler; the server stays up.
    await expect(
      as(WAREHOUSE).orders.createOrder({ customerId, requestId: "x-3", items: [{ productId, quantity: 1 }] }, { headers: { "x-actor": "a".repeat(60_000) } }),
    ).rejects.toThrow();
    expect((await admin.orders.listOrders({ customerId })).orders).toHaveLength(1);
  });

  it("answers forged page tokens and out-of-range times with INVALID_ARGUMENT", async () => {
    const admin = as(ADMIN);
    const { productId, customerId } = await fixture(admin);
    for (const r of ["p-1", "p-2"]) await admin.orders.createOrder({ customerId, requestId: r, items: [{ productId, quantity: 1 }] });
    const { nextPageToken } = await admin.orders.listOrders({ customerId, pageSize: 1 });
    const { f } = JSON.parse(Buffer.from(nextPageToken, "base64url").toString()) as { f: string };
    for (const k of [[1e20, "00000000-0000-4000-8000-000000000000"], [0, "not-a-uuid"], [1.5, "x"], ["a", "b"], []]) {
      const forged = Buffer.from(JSON.stringify({ k, f })).toString("base64url");
      const e = await failure(admin.orders.listOrders({ customerId, pageSize: 1, pageToken: forged }));
      expect(e).toMatchObject({ code: "InvalidArgument", reason: "INVALID_PAGE_TOKEN" });
    }
    const foreign = (await admin.inventory.listProducts({ pageSize: 1 })).nextPageToken;
    expect(await failure(admin.orders.listOrders({ pageToken: foreign }))).toMatchObject({ code: "InvalidArgument", reason: "INVALID_PAGE_TOKEN" });
    const far = await failure(admin.orders.listOrders({ createTimeStart: { seconds: 1_000_000_000_000_000n } }));
    expect(far).toMatchObject({ code: "InvalidArgument", reason: "INVALID_REQUEST" });
    expect(fieldViolationsOf(far.err).map((v) => v.field)).toEqual(["create_time_start"]);
  });

  it("answers money and stock past int64 with typed errors, holding nothing", async () => {
    const admin = as(ADMIN);
    const huge = await failure(
      admin.inventory.createProduct({ sku: `BIG-${unique()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 9223372036854775807n } }),
    );
    expect(huge).toMatchObject({ code: "InvalidArgument", reason: "INVALID_REQUEST" });
    const { productId, customerId } = await fixture(admin, 100_000n, 1_000_000_000_000_000n);
    const total = await failure(admin.orders.createOrder({ customerId, requestId: "big-1", items: [{ productId, quantity: 10_000 }] }));
    expect(total).toMatchObject({ code: "FailedPrecondition", reason: "AMOUNT_OUT_OF_RANGE" });
    expect((await admin.inventory.getProduct({ productId })).product).toMatchObject({ stockOnHand: 100_000n, reserved: 0n });
    await admin.inventory.setStock({ productId, stockOnHand: 9223372036854775807n });
    const over = await failure(admin.inventory.adjustStock({ productId, delta: 5n }));
    expect(over).toMatchObject({ code: "FailedPrecondition", reason: "STOCK_OUT_OF_RANGE" });
  });

  it("refuses unknown enum names, naming the field, instead of dropping them", async () => {
    const admin = as(ADMIN);
    const { customerId } = await fixture(admin);
    const raw = (path: string, body: string) =>
      fetch(`${stack.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", ...adminHeaders }, body });
    const list = await raw("/orders.v1.OrderService/ListOrders", '{"statuses":["NOPE"]}');
    expect(list.status).toBe(400);
    expect(await list.json()).toMatchObject({ code: "invalid_argument" });
    const update = await raw("/customers.v1.CustomerService/UpdateCustomer", JSON.stringify({ customerId, status: "CUSTOMER_STATUS_DELETED" }));
    const body = (await update.json()) as { code: string; details: { debug: { reason?: string; fieldViolations?: { field: string }[] } }[] };
    expect(body.code).toBe("invalid_argument");
    expect(body.details.map((d) => d.debug.reason ?? d.debug.fieldViolations?.[0]?.field)).toEqual(["INVALID_REQUEST", "status"]);
    expect((await admin.customers.getCustomer({ customerId })).customer?.status).toBe(CustomerStatus.ACTIVE);
  });
});

describe("malformed bodies on the Connect port", () => {
  const post = (path: string, contentType: string, body: Uint8Array | string, extra: Record<string, string> = {}) =>
    fetch(`${stack.httpUrl}${path}`, { method: "POST", headers: { "content-type": contentType, ...adminHeaders, ...extra }, body });

  it("answers a bad binary body INVALID_ARGUMENT with an ErrorInfo, never INTERNAL", async () => {
    const res = await post("/orders.v1.OrderService/GetOrder", "application/proto", new Uint8Array([0x0a, 0xff]));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", details: [{ debug: { reason: "MALFORMED_REQUEST" } }] });
  });

  it("refuses invalid UTF-8 in JSON and writes nothing", async () => {
    const admin = clientsOver(stack, "grpc", ADMIN);
    const { productId, customerId } = await fixture(admin);
    const prefix = Buffer.from(`{"customerId":"${customerId}","items":[{"productId":"${productId}","quantity":1}],"requestId":"`);
    const body = Buffer.concat([prefix, Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await post("/orders.v1.OrderService/CreateOrder", "application/json", body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", details: [{ debug: { reason: "MALFORMED_REQUEST" } }] });
    expect((await admin.orders.listOrders({ customerId })).orders).toEqual([]);
  });

  it("answers a Connect GET with bad base64 INVALID_ARGUMENT", async () => {
    const res = await fetch(`${stack.httpUrl}/inventory.v1.InventoryService/ListProducts?encoding=proto&base64=1&message=%25%25%25`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", details: [{ debug: { reason: "MALFORMED_REQUEST" } }] });
  });

  it("answers gRPC with a malformed message on the Connect port INVALID_ARGUMENT", async () => {
    const got = await rawGrpc(stack.httpUrl, "/orders.v1.OrderService/GetOrder", Buffer.from([0, 0, 0, 0, 2, 0x0a, 0xff]), adminHeaders);
    expect(got["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(got["grpc-status-details-bin"]).toBeTruthy();
  });

  it("gives RESOURCE_EXHAUSTED and UNIMPLEMENTED on the gRPC port an ErrorInfo too", async () => {
    const t = createGrpcTransport({ baseUrl: stack.grpcUrl });
    const big = await rpcFailure(
      createClient(CustomerService, t).createCustomer({ email: "a@example.com", displayName: "x".repeat(2 * 1024 * 1024) }, { headers: adminHeaders }),
    );
    expect([Code[big.code], errorInfoOf(big)?.reason]).toEqual(["ResourceExhausted", "MESSAGE_TOO_LARGE"]);
    const missing = await rawGrpc(stack.grpcUrl, "/orders.v1.GhostService/GetOrder", Buffer.from([0, 0, 0, 0, 0]), {});
    expect(missing["grpc-status"]).toBe(String(Code.Unimplemented));
    expect(missing["grpc-status-details-bin"]).toBeTruthy();
  });
});
