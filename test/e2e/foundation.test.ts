/**
 * The whole application on real ports: every Inventory and Customer RPC over
 * gRPC (grpc-js server) and Connect JSON, reflection, health, and the
 * services deployed apart (orders talking to inventory over the network).
 */
import { bearer, permittedPrincipal } from "../support/auth.js";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService, CustomerTier } from "../../gen/customers/v1/customer_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { InventoryService, ReservationStatus } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { preconditionViolationsOf, reasonOf, rpcFailure } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const transports: Record<string, () => Transport> = {
  grpc: () => createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(permittedPrincipal)] }),
  "connect json": () => createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(permittedPrincipal)] }),
};

describe.each(Object.keys(transports))("over %s", (name) => {
  const inventory = () => createClient(InventoryService, transports[name]());
  const customers = () => createClient(CustomerService, transports[name]());
  const tag = name.replace(/\W/g, "");

  it("runs the catalog and stock RPCs", async () => {
    const { product } = await inventory().createProduct({
      sku: `E2E-${tag}-1`,
      name: "Lamp",
      unitPrice: { currencyCode: "USD", amountMinor: 4900n },
      initialStock: 10n,
    });
    const id = product!.id;
    expect((await inventory().getProduct({ productId: id })).product?.sku).toBe(`E2E-${tag}-1`);
    expect((await inventory().updateProduct({ productId: id, name: "Desk lamp" })).product?.name).toBe("Desk lamp");
    expect((await inventory().setStock({ productId: id, stockOnHand: 20n })).product?.stockOnHand).toBe(20n);
    expect((await inventory().adjustStock({ productId: id, delta: -5n, reason: "breakage" })).product?.available).toBe(15n);
    const listed = await inventory().listProducts({ pageSize: 500 });
    expect(listed.products.map((p) => p.id)).toContain(id);
    const dup = await rpcFailure(inventory().createProduct({ sku: `E2E-${tag}-1`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 1n } }));
    expect([dup.code, reasonOf(dup)]).toEqual([Code.AlreadyExists, "SKU_TAKEN"]);
  });

  it("reserves all-or-nothing, commits, releases, reports shortages per product", async () => {
    const mk = async (sku: string, stock: bigint) =>
      (await inventory().createProduct({ sku, name: sku, unitPrice: { currencyCode: "EUR", amountMinor: 250n }, initialStock: stock })).product!.id;
    const a = await mk(`E2E-${tag}-A`, 5n);
    const b = await mk(`E2E-${tag}-B`, 1n);
    const short = await rpcFailure(
      inventory().reserveStock({ reservationId: `r-${tag}-1`, lines: [{ productId: a, quantity: 6 }, { productId: b, quantity: 2 }] }),
    );
    expect([short.code, reasonOf(short)]).toEqual([Code.FailedPrecondition, "INSUFFICIENT_STOCK"]);
    expect(preconditionViolationsOf(short).map((v) => v.subject).sort()).toEqual(
      [`products/${a}`, `products/${b}`].sort(),
    );
    expect((await inventory().getProduct({ productId: a })).product?.reserved).toBe(0n);

    const { reservation } = await inventory().reserveStock({ reservationId: `r-${tag}-2`, lines: [{ productId: a, quantity: 2 }] });
    expect(reservation?.lines[0]?.unitPrice?.amountMinor).toBe(250n);
    expect((await inventory().reserveStock({ reservationId: `r-${tag}-2`, lines: [{ productId: a, quantity: 2 }] })).reservation?.id).toBe(`r-${tag}-2`);
    expect((await inventory().getProduct({ productId: a })).product?.reserved).toBe(2n);
    expect((await inventory().commitReservation({ reservationId: `r-${tag}-2` })).reservation?.status).toBe(ReservationStatus.COMMITTED);
    expect((await inventory().getProduct({ productId: a })).product?.stockOnHand).toBe(3n);
    expect((await inventory().releaseReservation({ reservationId: `r-${tag}-2`, reason: "cancelled" })).reservation?.status).toBe(ReservationStatus.RELEASED);
    expect((await inventory().getReservation({ reservationId: `r-${tag}-2` })).reservation?.status).toBe(ReservationStatus.RELEASED);
    expect((await inventory().getProduct({ productId: a })).product?.stockOnHand).toBe(5n);
  });

  it("runs the customer RPCs", async () => {
    const { customer } = await customers().createCustomer({ email: `${tag}@example.com`, displayName: "Eve", tier: CustomerTier.VIP });
    const id = customer!.id;
    expect((await customers().getCustomer({ customerId: id })).customer?.tier).toBe(CustomerTier.VIP);
    expect((await customers().updateCustomer({ customerId: id, displayName: "Eve A." })).customer?.displayName).toBe("Eve A.");
    expect((await customers().listCustomers({})).customers.map((c) => c.id)).toContain(id);
    const dup = await rpcFailure(customers().createCustomer({ email: `${tag.toUpperCase()}@EXAMPLE.com`, displayName: "x" }));
    expect([dup.code, reasonOf(dup)]).toEqual([Code.AlreadyExists, "EMAIL_TAKEN"]);
  });

  it("answers unknown ids with NOT_FOUND and bad ids with INVALID_ARGUMENT", async () => {
    const missing = await rpcFailure(inventory().getProduct({ productId: "0b7e7f6e-1c1d-4c61-9d1e-5a8a5b9f0000" }));
    expect([missing.code, reasonOf(missing)]).toEqual([Code.NotFound, "PRODUCT_NOT_FOUND"]);
    const bad = await rpcFailure(customers().getCustomer({ customerId: "42" }));
    expect(bad.code).toBe(Code.InvalidArgument);
  });

  it("reports every service SERVING through grpc.health.v1", async () => {
    const health = createClient(Health, transports[name]());
    for (const s of ["", InventoryService.typeName, CustomerService.typeName, OrderService.typeName]) {
      expect((await health.check({ service: s })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
  });
});

it("lists all three services and health through reflection", async () => {
  const { stdout } = await promisify(execFile)("npx", [
    "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", stack.grpcUrl,
  ]);
  for (const s of ["orders.v1.OrderService", "inventory.v1.InventoryService", "customers.v1.CustomerService", "grpc.health.v1.Health"]) {
    expect(stdout).toContain(s);
  }
});

describe("deployed apart", () => {
  let inventoryOnly: TestStack;
  let ordersOnly: TestStack;
  beforeAll(async () => {
    inventoryOnly = await startTestStack({ database: stack.database, config: { services: ["inventory"] } });
    ordersOnly = await startTestStack({
      database: stack.database,
      config: { services: ["orders", "customers"], inventoryAddr: inventoryOnly.grpcUrl },
    });
  });
  afterAll(async () => {
    await ordersOnly?.close();
    await inventoryOnly?.close();
  });

  it("hosts only the configured services", async () => {
    const err = await rpcFailure(
      createClient(InventoryService, createGrpcTransport({ baseUrl: ordersOnly.grpcUrl, interceptors: [bearer(permittedPrincipal)] })).getProduct({
        productId: "0b7e7f6e-1c1d-4c61-9d1e-5a8a5b9f0000",
      }),
    );
    expect(err.code).toBe(Code.Unimplemented);
  });

  it("takes an order with inventory reached over the network", async () => {
    const inv = createClient(InventoryService, createGrpcTransport({ baseUrl: inventoryOnly.grpcUrl, interceptors: [bearer(permittedPrincipal)] }));
    const cust = createClient(CustomerService, createGrpcTransport({ baseUrl: ordersOnly.grpcUrl, interceptors: [bearer(permittedPrincipal)] }));
    const orders = createClient(OrderService, createGrpcTransport({ baseUrl: ordersOnly.grpcUrl, interceptors: [bearer(permittedPrincipal)] }));
    const { product } = await inv.createProduct({ sku: "APART-1", name: "x", unitPrice: { currencyCode: "USD", amountMinor: 100n }, initialStock: 3n });
    const { customer } = await cust.createCustomer({ email: "apart@example.com", displayName: "Apart" });
    const { order } = await orders.createOrder({
      customerId: customer!.id,
      items: [{ productId: product!.id, quantity: 2 }],
      requestId: "apart-1",
    });
    expect(order?.total?.amountMinor).toBe(200n);
    expect((await inv.getProduct({ productId: product!.id })).product?.stockOnHand).toBe(1n);
  });
});
