import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";
import { preconditionViolationsOf } from "../../support/rpc-errors.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

async function placeOrder(quantity = 2, stock = 10) {
  const [productId, customerId] = [await newProduct(h, stock), await newCustomer(h)];
  const rid = requestId();
  const { order } = await h.orders.createOrder({ customerId, requestId: rid, items: [{ productId, quantity }] });
  return { order: order!, productId, customerId, requestId: rid };
}

/** Staff member bob, whose changes history names. */
const bob = () => h.as({ role: "staff", id: "bob" }).orders;
const info = { carrier: "DHL", trackingNumber: "JD014600003828" };

describe("order lifecycle", () => {
  it("runs CONFIRMED → PROCESSING → SHIPPED → DELIVERED with history, needing shipping info to ship", async () => {
    const { order, productId } = await placeOrder();
    const id = order.id;
    await bob().updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING, reason: "picking" });
    await expectFailure(h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.SHIPPED }), Code.FailedPrecondition, "SHIPPING_INFO_REQUIRED");
    await h.orders.updateShippingInfo({ orderId: id, shippingInfo: info });
    await bob().updateOrderStatus({ orderId: id, status: OrderStatus.SHIPPED, reason: "handed over" });
    const delivered = (await h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.DELIVERED })).order!;
    expect(delivered.status).toBe(OrderStatus.DELIVERED);
    expect(delivered.shippingInfo).toMatchObject(info);
    expect(delivered.history.map((c) => [OrderStatus[c.fromStatus], OrderStatus[c.toStatus], c.reason, c.actor])).toEqual([
      ["UNSPECIFIED", "PENDING", "", "admin:test-admin"],
      ["PENDING", "CONFIRMED", "stock sold", "admin:test-admin"],
      ["CONFIRMED", "PROCESSING", "picking", "staff:bob"],
      ["PROCESSING", "SHIPPED", "handed over", "staff:bob"],
      ["SHIPPED", "DELIVERED", "", "admin:test-admin"],
    ]);
    await expectFailure(h.orders.updateShippingInfo({ orderId: id, shippingInfo: info }), Code.FailedPrecondition, "ORDER_FINALIZED");
    await expectFailure(h.orders.cancelOrder({ orderId: id }), Code.FailedPrecondition, "ILLEGAL_TRANSITION");
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
  });

  it("refuses an illegal change naming the current status, and repeats of the current status change nothing", async () => {
    const { order } = await placeOrder();
    const err = await expectFailure(
      h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.DELIVERED }),
      Code.FailedPrecondition,
      "ILLEGAL_TRANSITION",
    );
    expect(preconditionViolationsOf(err)[0]?.description).toContain("CONFIRMED");
    const same = (await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.CONFIRMED })).order!;
    expect(same.etag).toBe(order.etag);
    expect(same.history).toHaveLength(2); // stored PENDING, CONFIRMED once sold
  });

  it("cancels once: the stock returns exactly once, repeats change nothing", async () => {
    const { order, productId } = await placeOrder(3);
    expect(await stockOf(h, productId)).toMatchObject({ onHand: 7 });
    const cancelled = (await bob().cancelOrder({ orderId: order.id, reason: "changed my mind" })).order!;
    expect(cancelled.status).toBe(OrderStatus.CANCELLED);
    expect(cancelled.history.at(-1)).toMatchObject({ reason: "changed my mind", actor: "staff:bob" });
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    const again = (await h.orders.cancelOrder({ orderId: order.id })).order!;
    expect(again.etag).toBe(cancelled.etag);
    const viaStatus = (await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.CANCELLED })).order!;
    expect(viaStatus.etag).toBe(cancelled.etag);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });

  it("treats UpdateOrderStatus(CANCELLED) as CancelOrder, including from PROCESSING", async () => {
    const { order, productId } = await placeOrder(4);
    await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING });
    await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.CANCELLED, reason: "fraud" });
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });

  it("applies a mutation only with the current etag", async () => {
    const { order } = await placeOrder();
    const moved = (await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING, etag: order.etag })).order!;
    expect(moved.etag).not.toBe(order.etag);
    await expectFailure(h.orders.updateShippingInfo({ orderId: order.id, shippingInfo: info, etag: order.etag }), Code.Aborted, "ETAG_MISMATCH");
    await expectFailure(h.orders.cancelOrder({ orderId: order.id, etag: order.etag }), Code.Aborted, "ETAG_MISMATCH");
    await expectFailure(h.orders.deleteOrder({ orderId: order.id, etag: order.etag }), Code.Aborted, "ETAG_MISMATCH");
    await h.orders.updateShippingInfo({ orderId: order.id, shippingInfo: info, etag: moved.etag });
  });

  it("serialises concurrent mutations without etags; none is lost", async () => {
    const { order } = await placeOrder();
    await Promise.all([
      h.orders.updateShippingInfo({ orderId: order.id, shippingInfo: info }),
      h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING }),
    ]);
    const after = (await h.orders.getOrder({ orderId: order.id })).order!;
    expect(after.status).toBe(OrderStatus.PROCESSING);
    expect(after.shippingInfo).toMatchObject(info);
  });

  it("deletes: cancels first when stock is held, then the order is NOT_FOUND everywhere", async () => {
    const { order, productId, customerId, requestId: rid } = await placeOrder(5);
    await h.orders.deleteOrder({ orderId: order.id });
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    await expectFailure(h.orders.getOrder({ orderId: order.id }), Code.NotFound, "ORDER_NOT_FOUND");
    await expectFailure(h.orders.deleteOrder({ orderId: order.id }), Code.NotFound, "ORDER_NOT_FOUND");
    await expectFailure(h.orders.cancelOrder({ orderId: order.id }), Code.NotFound, "ORDER_NOT_FOUND");
    expect((await h.orders.listOrders({ customerId })).orders).toEqual([]);
    const repeat = { customerId, requestId: rid, items: [{ productId, quantity: 5 }] };
    await expectFailure(h.orders.createOrder(repeat), Code.AlreadyExists, "ORDER_DELETED");
  });

  it("deleting a delivered order keeps its stock sold", async () => {
    const { order, productId } = await placeOrder(2);
    for (const status of [OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) {
      if (status === OrderStatus.SHIPPED) await h.orders.updateShippingInfo({ orderId: order.id, shippingInfo: info });
      await h.orders.updateOrderStatus({ orderId: order.id, status });
    }
    await h.orders.deleteOrder({ orderId: order.id });
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
  });

  it("answers NOT_FOUND for unknown orders", async () => {
    const id = "77777777-7777-4777-8777-777777777777";
    await expectFailure(h.orders.getOrder({ orderId: id }), Code.NotFound, "ORDER_NOT_FOUND");
    await expectFailure(h.orders.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING }), Code.NotFound, "ORDER_NOT_FOUND");
  });
});
