/**
 * Oversell: 1,000 concurrent CreateOrder calls for one product with stock
 * 100, through the gRPC server, on real Postgres. Exactly 100 orders, stock
 * 0 on hand, 900 INSUFFICIENT_STOCK, nothing else.
 */
import { bearer, permittedPrincipal } from "../support/auth.js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct, requestId, stockOf } from "../integration/orders/harness.js";
import { onRealPostgres } from "../support/db.js";
import { reasonOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

describe.skipIf(!onRealPostgres)("oversell through the gRPC server", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ config: { defaultDeadlineMs: 120_000 } });
  });
  afterAll(() => stack?.close());

  it("sells exactly the stock to 1,000 concurrent orders", async () => {
    const t = createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(permittedPrincipal)] });
    const c = {
      orders: createClient(OrderService, t),
      inventory: createClient(InventoryService, t),
      customers: createClient(CustomerService, t),
    };
    const productId = await newProduct(c, 100, 500n);
    const customers = await Promise.all(Array.from({ length: 10 }, () => newCustomer(c)));
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) =>
        c.orders.createOrder(
          { customerId: customers[i % 10], requestId: requestId(), items: [{ productId, quantity: 1 }] },
          { timeoutMs: 120_000 },
        ),
      ),
    );
    const outcomes = new Map<string, number>();
    for (const r of results) {
      const key = r.status === "fulfilled" ? "OK" : `${Code[ConnectError.from(r.reason).code]} ${reasonOf(ConnectError.from(r.reason))}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(outcomes)).toEqual({ OK: 100, "FailedPrecondition INSUFFICIENT_STOCK": 900 });
    expect(await stockOf(c, productId)).toEqual({ onHand: 0, reserved: 0, available: 0 });
    let listed = 0;
    for (const customerId of customers) {
      listed += (await c.orders.listOrders({ customerId, pageSize: 500 })).orders.length;
    }
    expect(listed).toBe(100);
  }, 180_000);
});
