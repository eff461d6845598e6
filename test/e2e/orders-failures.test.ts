/**
 * Failure injection on the real servers (startTestStack's transformImpl):
 * an unreachable inventory and a customer service slower than the deadline.
 */
import { bearer, permittedPrincipal } from "../support/auth.js";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { createFaults } from "../integration/orders/faults.js";
import { newCustomer, newProduct, requestId, stockOf } from "../integration/orders/harness.js";
import { expectFailure } from "../integration/orders/rpc-assert.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const faults = createFaults();
let stack: TestStack;
let c: {
  orders: ReturnType<typeof createClient<typeof OrderService>>;
  inventory: ReturnType<typeof createClient<typeof InventoryService>>;
  customers: ReturnType<typeof createClient<typeof CustomerService>>;
};
beforeAll(async () => {
  stack = await startTestStack({
    config: { deadlineMarginMs: 200 },
    transformImpl: (service, impl) => (service.typeName === OrderService.typeName ? impl : faults.transformImpl(service, impl)),
  });
  const t = createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(permittedPrincipal)] });
  c = {
    orders: createClient(OrderService, t),
    inventory: createClient(InventoryService, t),
    customers: createClient(CustomerService, t),
  };
});
afterAll(() => stack?.close());
afterEach(() => faults.clear());

describe("CreateOrder with failing dependencies, end to end", () => {
  it("answers UNAVAILABLE with no order when inventory is down", async () => {
    const [productId, customerId] = [await newProduct(c, 10), await newCustomer(c)];
    faults.set("reserveStock", { kind: "unavailable" });
    const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] };
    await expectFailure(c.orders.createOrder(req), Code.Unavailable, "INVENTORY_UNAVAILABLE");
    expect((await c.orders.listOrders({ customerId })).orders).toEqual([]);
    faults.clear();
    expect((await c.orders.createOrder(req)).order?.customerId).toBe(customerId);
  });

  it("answers DEADLINE_EXCEEDED with no order and no held stock when customers is too slow", async () => {
    const [productId, customerId] = [await newProduct(c, 10), await newCustomer(c)];
    faults.set("getCustomer", { kind: "delay", ms: 1000 });
    const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 3 }] };
    await expectFailure(c.orders.createOrder(req, { timeoutMs: 500 }), Code.DeadlineExceeded, "CUSTOMERS_DEADLINE_EXCEEDED");
    await new Promise((r) => setTimeout(r, 1100));
    expect((await c.orders.listOrders({ customerId })).orders).toEqual([]);
    expect(await stockOf(c, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });
});
