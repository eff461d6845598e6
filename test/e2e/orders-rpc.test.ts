/**
 * Every OrderService RPC on the real servers, over gRPC (grpc-js port) and
 * Connect JSON (HTTP/1.1), with error details surviving both.
 */
import { authHeaders, bearer, permittedPrincipal, WAREHOUSE } from "../support/auth.js";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService, OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct, requestId, stockOf } from "../integration/orders/harness.js";
import { expectFailure } from "../integration/orders/rpc-assert.js";
import { preconditionViolationsOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.close());

const transports: Record<string, () => Transport> = {
  grpc: () => createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(permittedPrincipal)] }),
  "connect json": () => createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(permittedPrincipal)] }),
};

describe.each(Object.keys(transports))("OrderService over %s", (name) => {
  const clients = () => {
    const t = transports[name]();
    return {
      orders: createClient(OrderService, t),
      inventory: createClient(InventoryService, t),
      customers: createClient(CustomerService, t),
    };
  };

  it("creates, reads, lists, ships, watches and delivers an order", async () => {
    const c = clients();
    const [productId, customerId] = [await newProduct(c, 5, 4999n), await newCustomer(c)];
    // A warehouse system acting for a person: history names both; everyone else is the admin.
    const actor = { headers: { ...(await authHeaders(WAREHOUSE)), "x-actor": `tester-${name}` } };
    const { order } = await c.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 2 }] }, actor);
    const id = order!.id;
    expect(order!.total?.amountMinor).toBe(9998n);
    expect((await c.orders.getOrder({ orderId: id })).order).toEqual(order);
    expect((await c.orders.listOrders({ customerId })).orders.map((o) => o.id)).toEqual([id]);

    const statuses: OrderStatus[] = [];
    const watching = (async () => {
      for await (const res of c.orders.watchOrder({ orderId: id })) statuses.push(res.order!.status);
    })();
    await waitFor(() => statuses.length === 1);
    await c.orders.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING }, actor);
    await c.orders.updateShippingInfo({ orderId: id, shippingInfo: { carrier: "DHL", trackingNumber: "123" } });
    await c.orders.updateOrderStatus({ orderId: id, status: OrderStatus.SHIPPED });
    const done = (await c.orders.updateOrderStatus({ orderId: id, status: OrderStatus.DELIVERED })).order!;
    await watching;
    expect(statuses[0]).toBe(OrderStatus.CONFIRMED);
    expect(statuses.at(-1)).toBe(OrderStatus.DELIVERED);
    const warehouse = `service:warehouse for tester-${name}`;
    // Created PENDING and CONFIRMED once sold, in the same call: both entries name its caller.
    expect(done.history.map((h) => h.actor)).toEqual([warehouse, warehouse, warehouse, "admin:test-admin", "admin:test-admin"]);
    expect(await stockOf(c, productId)).toEqual({ onHand: 3, reserved: 0, available: 3 });
  });

  it("cancels and deletes, returning the stock", async () => {
    const c = clients();
    const [productId, customerId] = [await newProduct(c, 5), await newCustomer(c)];
    const a = (await c.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 2 }] })).order!;
    const b = (await c.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 3 }] })).order!;
    expect((await c.orders.cancelOrder({ orderId: a.id, reason: "no longer needed" })).order!.status).toBe(OrderStatus.CANCELLED);
    await c.orders.deleteOrder({ orderId: b.id, etag: b.etag });
    await expectFailure(c.orders.getOrder({ orderId: b.id }), Code.NotFound, "ORDER_NOT_FOUND");
    expect(await stockOf(c, productId)).toEqual({ onHand: 5, reserved: 0, available: 5 });
  });

  it("carries reasons and violations in error details", async () => {
    const c = clients();
    const [productId, customerId] = [await newProduct(c, 1), await newCustomer(c)];
    const err = await expectFailure(
      c.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 2 }] }),
      Code.FailedPrecondition,
      "INSUFFICIENT_STOCK",
    );
    expect(preconditionViolationsOf(err).map((v) => v.subject)).toEqual([`products/${productId}`]);
    await expectFailure(c.orders.listOrders({ pageToken: "x" }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
  });
});

async function waitFor(cond: () => boolean, ms = 5000) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}
