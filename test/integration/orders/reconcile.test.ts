/**
 * Crash and outage safety: an order is acknowledged only once its stock is
 * sold. Whatever is left between storing an order and inventory's answer,
 * the reconciler settles: it confirms PENDING orders (holding their stock
 * again if the hold expired, cancelling LOST_HOLD only if the stock is gone),
 * releases the stock of cancelled ones, and never cancels an acknowledged
 * order. stop() ends a pass without waiting for a hung dependency.
 */
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { OrderService, OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { startTestStack } from "../../support/servers.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

const faults = createFaults();
let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness({ transformImpl: faults.transformImpl });
});
afterAll(() => h.close());
afterEach(() => faults.clear());

/** A CreateOrder whose sale inventory does not confirm: stored PENDING, answered ORDER_NOT_CONFIRMED. */
async function placeUnconfirmed(quantity: number, stock = 10) {
  const [productId, customerId] = [await newProduct(h, stock), await newCustomer(h)];
  const req = { customerId, requestId: requestId(), items: [{ productId, quantity }] };
  faults.set("commitReservation", { kind: "unavailable" });
  const err = await expectFailure(h.orders.createOrder(req), Code.Unavailable, "ORDER_NOT_CONFIRMED");
  expect(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds).toBe(1n);
  const [order] = (await h.orders.listOrders({ customerId })).orders;
  expect(order.status).toBe(OrderStatus.PENDING);
  return { order, productId, req };
}

const statusesOf = (o: { history: { toStatus: OrderStatus }[] }) => o.history.map((c) => OrderStatus[c.toStatus]);
const pollUntil = async (done: () => boolean) => {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
};

describe("the reconciler", () => {
  it("confirms a stored order whose sale inventory did not confirm, once inventory answers", async () => {
    const { order, productId, req } = await placeUnconfirmed(3);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 3, available: 7 });
    expect(await h.module.reconcile()).toBe(0);
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    const after = (await h.orders.getOrder({ orderId: order.id })).order!;
    expect(statusesOf(after)).toEqual(["PENDING", "CONFIRMED"]);
    expect(after.history[1]).toMatchObject({ reason: "stock sold", actor: "system:reconciler" });
    expect(await stockOf(h, productId)).toEqual({ onHand: 7, reserved: 0, available: 7 });
    expect(await h.module.reconcile()).toBe(0);
    expect((await h.orders.createOrder(req)).order).toMatchObject({ id: order.id, status: OrderStatus.CONFIRMED });
  });

  it("lets a retry with the same request_id confirm it, never selling twice", async () => {
    const { order, productId, req } = await placeUnconfirmed(2);
    await expectFailure(h.orders.createOrder(req), Code.Unavailable, "ORDER_NOT_CONFIRMED");
    faults.clear();
    const retries = await Promise.all([1, 2, 3].map(() => h.orders.createOrder(req)));
    for (const r of retries) expect(r.order).toMatchObject({ id: order.id, status: OrderStatus.CONFIRMED });
    expect(statusesOf(retries[0].order!)).toEqual(["PENDING", "CONFIRMED"]);
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
    expect(await h.module.reconcile()).toBe(0);
  });

  it("holds the stock again for a PENDING order whose hold expired, and confirms it", async () => {
    const { order, productId, req } = await placeUnconfirmed(5);
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    expect((await h.orders.getOrder({ orderId: order.id })).order?.status).toBe(OrderStatus.CONFIRMED);
    expect(await stockOf(h, productId)).toEqual({ onHand: 5, reserved: 0, available: 5 });
    expect((await h.orders.createOrder(req)).order?.status).toBe(OrderStatus.CONFIRMED);
  });

  it("cancels a PENDING order LOST_HOLD only when its stock is gone; its retry is ORDER_CANCELLED", async () => {
    const { order, productId, req } = await placeUnconfirmed(5, 5);
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    faults.clear();
    const other = await newCustomer(h);
    await h.orders.createOrder({ customerId: other, requestId: requestId(), items: [{ productId, quantity: 5 }] });
    expect(await h.module.reconcile()).toBe(1);
    const after = (await h.orders.getOrder({ orderId: order.id })).order!;
    expect(statusesOf(after)).toEqual(["PENDING", "CANCELLED"]);
    expect(after.history[1]).toMatchObject({ reason: "LOST_HOLD", actor: "system:reconciler" });
    await expectFailure(h.orders.createOrder(req), Code.FailedPrecondition, "ORDER_CANCELLED");
    expect(await stockOf(h, productId)).toEqual({ onHand: 0, reserved: 0, available: 0 });
  });

  it("never cancels an acknowledged order whose hold was lost (a row from before acknowledge-once-sold)", async () => {
    const { order } = await placeUnconfirmed(4);
    await h.database.db.execute(sql`update orders.orders set status = 'CONFIRMED' where id = ${order.id}::uuid`);
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    faults.clear();
    expect(await h.module.reconcile()).toBe(0);
    expect((await h.orders.getOrder({ orderId: order.id })).order?.status).toBe(OrderStatus.CONFIRMED);
  });

  it("commits a legacy CONFIRMED order's reservation before it moves on", async () => {
    const { order, productId } = await placeUnconfirmed(2);
    await h.database.db.execute(sql`update orders.orders set status = 'CONFIRMED' where id = ${order.id}::uuid`);
    faults.clear();
    await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING });
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
    expect(await h.module.reconcile()).toBe(0);
  });

  it("releases the stock of a cancelled order whose release failed, exactly once", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 4 }] });
    faults.set("releaseReservation", { kind: "unavailable" });
    const cancelled = (await h.orders.cancelOrder({ orderId: order!.id })).order!;
    expect(cancelled.status).toBe(OrderStatus.CANCELLED);
    expect(await stockOf(h, productId)).toMatchObject({ onHand: 6 });
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    expect(await h.module.reconcile()).toBe(0);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });

  it("ends a pass when stopped, without waiting for a dependency that hangs", async () => {
    await placeUnconfirmed(1);
    await placeUnconfirmed(1);
    faults.clear();
    faults.set("commitReservation", { kind: "hang" });
    const stop = new AbortController();
    const pass = h.module.reconcile(stop.signal);
    await pollUntil(() => faults.entered("commitReservation") === 1);
    stop.abort();
    expect(await pass).toBe(0);
    expect(faults.entered("commitReservation")).toBe(1); // the second order was not tried
  });
});

it("shuts down without waiting for a running pass whose dependency hangs", async () => {
  await placeUnconfirmed(1);
  faults.clear();
  faults.set("commitReservation", { kind: "hang" });
  // Its own stack with the periodic reconciler on, and a settle budget far beyond the test's timeout.
  // On Postgres the harness's stack leads the reconciler (leader.ts): it hands over first.
  await h.stack.app.leaders.reconciler?.stop();
  const other = await startTestStack({
    database: h.database,
    config: { reconcileIntervalMs: 100, reservationSweepMs: 3_600_000, defaultDeadlineMs: 600_000, leaderRetryMs: 50 },
    transformImpl: (service, impl) => (service.typeName === OrderService.typeName ? impl : faults.transformImpl(service, impl)),
  });
  await pollUntil(() => faults.entered("commitReservation") > 0);
  await other.close(); // resolves only because stop() aborts the pass and its hung call
});

describe("UpdateOrderStatus on a PENDING order", () => {
  it("confirms it by selling its stock, checking the etag; nothing but CONFIRMED or CANCELLED may follow", async () => {
    const { order, productId } = await placeUnconfirmed(2);
    await expectFailure(
      h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING }),
      Code.FailedPrecondition,
      "ILLEGAL_TRANSITION",
    );
    await expectFailure(
      h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.CONFIRMED }),
      Code.Unavailable,
      "INVENTORY_UNAVAILABLE",
    );
    faults.clear();
    await expectFailure(
      h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.CONFIRMED, etag: "stale" }),
      Code.Aborted,
      "ETAG_MISMATCH",
    );
    expect(await stockOf(h, productId)).toMatchObject({ reserved: 2 });
    const { order: confirmed } = await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.CONFIRMED, etag: order.etag });
    expect(statusesOf(confirmed!)).toEqual(["PENDING", "CONFIRMED"]);
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
  });
});
