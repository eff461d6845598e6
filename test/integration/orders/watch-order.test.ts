import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus, type Order } from "../../../gen/orders/v1/order_service_pb.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

async function placeOrder() {
  const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
  return (await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
}

/** Collects the stream; after the k-th message runs steps[k] (if any). */
async function watch(orderId: string, steps: (() => Promise<unknown>)[], signal?: AbortSignal): Promise<Order[]> {
  const got: Order[] = [];
  for await (const res of h.orders.watchOrder({ orderId }, { signal })) {
    got.push(res.order!);
    await steps[got.length - 1]?.();
  }
  return got;
}

describe("WatchOrder", () => {
  it("sends the order now, then after each change, and ends when it is final", async () => {
    const order = await placeOrder();
    const id = order.id;
    const seen = await watch(id, [
      () => h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING }),
      () => h.orders.updateShippingInfo({ orderId: id, shippingInfo: { carrier: "UPS", trackingNumber: "1Z" } }),
      () => h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.SHIPPED }),
      () => h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.DELIVERED }),
    ]);
    expect(seen.map((o) => OrderStatus[o.status])).toEqual(["CONFIRMED", "PROCESSING", "PROCESSING", "SHIPPED", "DELIVERED"]);
    expect(seen[2].shippingInfo?.carrier).toBe("UPS");
    expect(new Set(seen.map((o) => o.etag)).size).toBe(5);
  });

  it("sees concurrent changes made while it is running, and ends on cancel", async () => {
    const order = await placeOrder();
    let mutations: Promise<unknown> = Promise.resolve();
    const seen = await watch(order.id, [
      async () => {
        // not awaited by the stream: the changes race with the watcher
        mutations = (async () => {
          await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING });
          await h.orders.cancelOrder({ orderId: order.id });
        })();
      },
    ]);
    await mutations;
    expect(seen[0].status).toBe(OrderStatus.CONFIRMED);
    expect(seen.at(-1)!.status).toBe(OrderStatus.CANCELLED);
  });

  it("ends when the order is deleted, and when the caller goes away", async () => {
    const order = await placeOrder();
    const deleted = await watch(order.id, [() => h.orders.deleteOrder({ orderId: order.id })]);
    expect(deleted).toHaveLength(1);
    const other = await placeOrder();
    const ac = new AbortController();
    const err = await watch(other.id, [async () => ac.abort()], ac.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });

  it("fails NOT_FOUND for an unknown order", async () => {
    await expectFailure(watch("66666666-6666-4666-8666-666666666666", []), Code.NotFound, "ORDER_NOT_FOUND");
  });
});
