/**
 * The access matrix, generated from the one declaration (the protos'
 * access rules, src/platform/access.ts): every RPC the service serves ×
 * {anonymous, owning customer, other customer, staff, admin, service} ×
 * {gRPC, Connect JSON}, each call made for real against a fresh resource,
 * asserting the exact code the rule implies:
 *
 * - public → OK for everyone;
 * - otherwise anonymous → UNAUTHENTICATED, a role the rule does not name →
 *   PERMISSION_DENIED;
 * - a customer reaches only their own (CUSTOMER_SCOPE_OWN): the owner → OK;
 *   another customer → NOT_FOUND, except a Create (PERMISSION_DENIED: you
 *   cannot create for someone else) and a List (OK, but none of the owner's)
 *   — unless it lists what one order holds (ListOrderTimeline): NOT_FOUND;
 * - caller-owned resources (reservations) are made by the same service → OK.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService, OrderStatus, PaymentEventKind, ReturnStatus, ShipmentStatus } from "../../gen/orders/v1/order_service_pb.js";
import type { Principal, Role } from "../../src/kernel/principal.js";
import { ruleOf } from "../../src/platform/access.js";
import { ADMIN, customer, STAFF, WAREHOUSE, withPrincipal } from "../support/auth.js";
import { clientsOf, clientsOver, WIRES, type Clients, type Wire } from "../support/clients.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const SERVED = [OrderService, InventoryService, CustomerService, Health] as const;
const CALLERS = ["anonymous", "owning customer", "other customer", "staff", "admin", "service"] as const;
type Caller = (typeof CALLERS)[number];

let stack: TestStack;
let admin: Clients;
let warehouse: Clients;
let seq = 0;
const unique = () => `${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  stack = await startTestStack();
  admin = clientsOf(withPrincipal(stack.transport, ADMIN));
  warehouse = clientsOf(withPrincipal(stack.transport, WAREHOUSE));
});
afterAll(async () => {
  await stack?.close();
});

/** What one case needs: a customer who owns things, and those things, made fresh. */
interface World {
  owner: string;
  other: string;
  productId: string;
  orderId: string;
  reservationId: string;
}

async function world(): Promise<World> {
  const mk = async () => (await admin.customers.createCustomer({ email: `m-${unique()}@example.com`, displayName: "M" })).customer!.id;
  const [owner, other] = [await mk(), await mk()];
  const { product } = await admin.inventory.createProduct({ sku: `M-${unique()}`, name: "x", unitPrice: { currencyCode: "EUR", amountMinor: 100n }, initialStock: 100n });
  const productId = product!.id;
  const { order } = await admin.orders.createOrder({ customerId: owner, requestId: unique(), items: [{ productId, quantity: 1 }] });
  const reservationId = `m-${unique()}`;
  await warehouse.inventory.reserveStock({ reservationId, lines: [{ productId, quantity: 1 }] });
  return { owner, other, productId, orderId: order!.id, reservationId };
}

type Call = (c: Clients, w: World) => Promise<unknown>;

async function deliver(orderId: string) {
  await admin.orders.updateShippingInfo({ orderId, shippingInfo: { carrier: "DHL", trackingNumber: "1" } });
  for (const status of [OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) await admin.orders.updateOrderStatus({ orderId, status });
}

const firstOf = async (stream: AsyncIterable<unknown>) => {
  for await (const m of stream) return m;
  return undefined;
};

/** One well-formed request per RPC; a method missing here fails the test. */
const REQUESTS: Record<string, Call> = {
  "OrderService.CreateOrder": (c, w) => c.orders.createOrder({ customerId: w.owner, requestId: unique(), items: [{ productId: w.productId, quantity: 1 }] }),
  "OrderService.GetOrder": (c, w) => c.orders.getOrder({ orderId: w.orderId }),
  "OrderService.ListOrderTimeline": (c, w) => c.orders.listOrderTimeline({ orderId: w.orderId }),
  "OrderService.ListOrders": (c, w) => c.orders.listOrders({ customerId: w.owner }),
  "OrderService.SearchOrders": (c, w) => c.orders.searchOrders({ customerId: w.owner }),
  "OrderService.UpdateShippingInfo": (c, w) => c.orders.updateShippingInfo({ orderId: w.orderId, shippingInfo: { carrier: "DHL", trackingNumber: "1" } }),
  "OrderService.UpdateOrderStatus": (c, w) => c.orders.updateOrderStatus({ orderId: w.orderId, status: OrderStatus.PROCESSING }),
  "OrderService.CancelOrder": (c, w) => c.orders.cancelOrder({ orderId: w.orderId }),
  "OrderService.DeleteOrder": (c, w) => c.orders.deleteOrder({ orderId: w.orderId }),
  "OrderService.CancelUnshipped": (c, w) => c.orders.cancelUnshipped({ orderId: w.orderId }),
  // A return needs delivered units: admin ships and delivers first (the one-shipment shortcut).
  "OrderService.RequestReturn": async (c, w) => {
    await deliver(w.orderId);
    return c.orders.requestReturn({ orderId: w.orderId, requestId: unique(), lines: [{ lineNumber: 1, quantity: 1 }] });
  },
  "OrderService.UpdateReturnStatus": async (c, w) => {
    await deliver(w.orderId);
    const { return: ret } = await admin.orders.requestReturn({ orderId: w.orderId, requestId: unique(), lines: [{ lineNumber: 1, quantity: 1 }] });
    return c.orders.updateReturnStatus({ orderId: w.orderId, returnId: ret!.id, status: ReturnStatus.APPROVED });
  },
  "OrderService.CreateShipment": (c, w) => c.orders.createShipment({ orderId: w.orderId, requestId: unique(), lines: [{ lineNumber: 1, quantity: 1 }] }),
  "OrderService.UpdateShipmentStatus": async (c, w) => {
    const { shipment } = await admin.orders.createShipment({ orderId: w.orderId, requestId: unique(), lines: [{ lineNumber: 1, quantity: 1 }] });
    return c.orders.updateShipmentStatus({ orderId: w.orderId, shipmentId: shipment!.id, status: ShipmentStatus.CANCELLED });
  },
  "OrderService.AddOrderNote": (c, w) => c.orders.addOrderNote({ orderId: w.orderId, requestId: unique(), text: "Customer called" }),
  "OrderService.UpdateOrderTags": (c, w) => c.orders.updateOrderTags({ orderId: w.orderId, addTags: ["gift"] }),
  "OrderService.UpdateOrderMetadata": (c, w) => c.orders.updateOrderMetadata({ orderId: w.orderId, set: { erp_id: "SO-1" } }),
  "OrderService.ReportPayment": (c, w) =>
    c.orders.reportPayment({ orderId: w.orderId, providerEventId: unique(), kind: PaymentEventKind.AUTHORIZED, amount: { currencyCode: "EUR", amountMinor: 100n } }),
  "OrderService.WatchOrder": (c, w) => firstOf(c.orders.watchOrder({ orderId: w.orderId }, { signal: AbortSignal.timeout(10_000) })),
  "InventoryService.CreateProduct": (c) => c.inventory.createProduct({ sku: `M-${unique()}`, name: "x", unitPrice: { currencyCode: "EUR", amountMinor: 1n } }),
  "InventoryService.GetProduct": (c, w) => c.inventory.getProduct({ productId: w.productId }),
  "InventoryService.ListProducts": (c) => c.inventory.listProducts({ pageSize: 1 }),
  "InventoryService.UpdateProduct": (c, w) => c.inventory.updateProduct({ productId: w.productId, name: "y" }),
  "InventoryService.SetStock": (c, w) => c.inventory.setStock({ productId: w.productId, stockOnHand: 100n }),
  "InventoryService.AdjustStock": (c, w) => c.inventory.adjustStock({ productId: w.productId, delta: 1n }),
  "InventoryService.ReserveStock": (c, w) => c.inventory.reserveStock({ reservationId: `m-${unique()}`, lines: [{ productId: w.productId, quantity: 1 }] }),
  "InventoryService.CommitReservation": (c, w) => c.inventory.commitReservation({ reservationId: w.reservationId }),
  "InventoryService.ReturnStock": async (c, w) => {
    await warehouse.inventory.commitReservation({ reservationId: w.reservationId }); // only a sold reservation takes returns
    return c.inventory.returnStock({ reservationId: w.reservationId, returnId: unique(), lines: [{ productId: w.productId, quantity: 1 }] });
  },
  "InventoryService.ReleaseReservation": (c, w) => c.inventory.releaseReservation({ reservationId: w.reservationId }),
  "InventoryService.GetReservation": (c, w) => c.inventory.getReservation({ reservationId: w.reservationId }),
  "CustomerService.CreateCustomer": (c) => c.customers.createCustomer({ email: `m-${unique()}@example.com`, displayName: "N" }),
  "CustomerService.GetCustomer": (c, w) => c.customers.getCustomer({ customerId: w.owner }),
  "CustomerService.ListCustomers": (c) => c.customers.listCustomers({ pageSize: 1 }),
  "CustomerService.UpdateCustomer": (c, w) => c.customers.updateCustomer({ customerId: w.owner, displayName: "Renamed" }),
  "Health.Check": (c) => c.health.check({ service: "" }),
  "Health.Watch": (c) => firstOf(c.health.watch({ service: "" }, { signal: AbortSignal.timeout(10_000) })),
};

function principalOf(caller: Caller, w: World): Principal | undefined {
  switch (caller) {
    case "anonymous":
      return undefined;
    case "owning customer":
      return customer(w.owner);
    case "other customer":
      return customer(w.other);
    case "staff":
      return STAFF;
    case "admin":
      return ADMIN;
    case "service":
      return WAREHOUSE;
  }
}

/** The code the declared rule implies for `caller`. */
function expectedCode(method: DescMethod, caller: Caller): Code | undefined {
  const rule = ruleOf(method);
  if (!rule) return Code.PermissionDenied;
  if (rule.public) return undefined;
  if (caller === "anonymous") return Code.Unauthenticated;
  const role: Role = caller === "owning customer" || caller === "other customer" ? "customer" : caller;
  if (!rule.roles.has(role)) return Code.PermissionDenied;
  if (caller === "other customer" && rule.customerScope === "own") {
    if (method.name.startsWith("Create")) return Code.PermissionDenied;
    // A list of one order's entries is about that order, as a Get is.
    if (method.name.startsWith("List") && !method.input.fields.some((f) => f.name === "order_id")) return undefined;
    return Code.NotFound;
  }
  return undefined;
}

const CASES = SERVED.flatMap((s) => s.methods.map((m) => [`${s.name}.${m.name}`, m] as const));

it("has a request for every RPC served", () => {
  expect(Object.keys(REQUESTS).sort()).toEqual(CASES.map(([name]) => name).sort());
});

describe.each(WIRES)("over %s", (wire: Wire) => {
  it.each(CASES)("%s", async (name, method) => {
    const outcomes: Record<string, string> = {};
    const wanted: Record<string, string> = {};
    for (const caller of CALLERS) {
      const w = await world();
      const call = REQUESTS[name];
      let got: string;
      try {
        const res = await call(clientsOver(stack, wire, principalOf(caller, w)), w);
        got = "OK";
        // A list by another customer answers, but with nothing of the owner's.
        if (caller === "other customer" && name === "OrderService.ListOrders") {
          expect((res as { orders: unknown[] }).orders).toEqual([]);
        }
      } catch (err) {
        got = Code[ConnectError.from(err).code];
      }
      outcomes[caller] = got;
      const code = expectedCode(method, caller);
      wanted[caller] = code === undefined ? "OK" : Code[code];
    }
    expect(outcomes).toEqual(wanted);
  });
});
