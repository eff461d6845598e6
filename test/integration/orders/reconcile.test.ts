/**
 * Crash safety: whatever is left between the order transaction and the
 * inventory calls, the reconciler settles — commits the reservations of
 * stored orders, releases those of cancelled ones, and cancels an order whose
 * reservation expired before it was committed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";

const faults = createFaults();
let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness({ transformImpl: faults.transformImpl });
});
afterAll(() => h.close());
afterEach(() => faults.clear());

async function placeOrder(quantity: number) {
  const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
  const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity }] });
  return { order: order!, productId };
}

describe("the reconciler", () => {
  it("commits the reservation of an order whose commit did not happen", async () => {
    faults.set("commitReservation", { kind: "unavailable" });
    const { order, productId } = await placeOrder(3);
    expect(order.status).toBe(OrderStatus.CONFIRMED);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 3, available: 7 });
    expect(await h.module.reconcile()).toBe(0);
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    expect(await stockOf(h, productId)).toEqual({ onHand: 7, reserved: 0, available: 7 });
    expect(await h.module.reconcile()).toBe(0);
  });

  it("commits before an order moves on, when the reconciler has not yet", async () => {
    faults.set("commitReservation", { kind: "unavailable" });
    const { order, productId } = await placeOrder(2);
    faults.clear();
    await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING });
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
    expect(await h.module.reconcile()).toBe(0);
  });

  it("releases the stock of a cancelled order whose release failed, exactly once", async () => {
    const { order, productId } = await placeOrder(4);
    faults.set("releaseReservation", { kind: "unavailable" });
    const cancelled = (await h.orders.cancelOrder({ orderId: order.id })).order!;
    expect(cancelled.status).toBe(OrderStatus.CANCELLED);
    expect(await stockOf(h, productId)).toMatchObject({ onHand: 6 });
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    expect(await h.module.reconcile()).toBe(0);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });

  it("cancels an order whose reservation expired before it was committed; no stock leaks", async () => {
    faults.set("commitReservation", { kind: "unavailable" });
    const { order, productId } = await placeOrder(5);
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    const after = (await h.orders.getOrder({ orderId: order.id })).order!;
    expect(after.status).toBe(OrderStatus.CANCELLED);
    expect(after.history.at(-1)?.actor).toBe("system:reconciler");
    expect(await h.module.reconcile()).toBe(0);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });
});
