/** Races that need real concurrency: real Postgres only (CI runs them). */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { onRealPostgres } from "../../support/db.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";

describe.skipIf(!onRealPostgres)("races on real Postgres", () => {
  let h: OrdersHarness;
  beforeAll(async () => {
    h = await createOrdersHarness();
  });
  afterAll(() => h.close());

  it("50 concurrent CreateOrder with one request_id make one order and take the stock once", async () => {
    const [productId, customerId] = [await newProduct(h, 100), await newCustomer(h)];
    const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 3 }] };
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => h.orders.createOrder(req)));
    const failed = results.filter((r) => r.status === "rejected").map((r) => ConnectError.from(r.reason).message);
    expect(failed).toEqual([]);
    const ids = new Set(results.map((r) => (r.status === "fulfilled" ? r.value.order!.id : "")));
    expect(ids.size).toBe(1);
    expect((await h.orders.listOrders({ customerId })).orders).toHaveLength(1);
    expect(await stockOf(h, productId)).toEqual({ onHand: 97, reserved: 0, available: 97 });
  });

  it("20 concurrent cancels of one order restore its stock exactly once", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 6 }] });
    expect(await stockOf(h, productId)).toMatchObject({ onHand: 4 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => h.orders.cancelOrder({ orderId: order!.id, reason: `cancel ${i}` })),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const final = (await h.orders.getOrder({ orderId: order!.id })).order!;
    expect(final.status).toBe(OrderStatus.CANCELLED);
    expect(final.history.filter((c) => c.toStatus === OrderStatus.CANCELLED)).toHaveLength(1);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    expect(await h.module.reconcile()).toBe(0);
  });

  it("concurrent cancels, deletes and status changes of one order: one wins, stock comes back once", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 5 }] });
    const orderId = order!.id;
    const calls = Array.from({ length: 30 }, (_, i) =>
      [
        () => h.orders.cancelOrder({ orderId }),
        () => h.orders.deleteOrder({ orderId }),
        () => h.orders.updateOrderStatus({ orderId, status: OrderStatus.PROCESSING }),
      ][i % 3](),
    );
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      if (r.status === "rejected") {
        expect([Code.NotFound, Code.FailedPrecondition]).toContain(ConnectError.from(r.reason).code);
      }
    }
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });
});
