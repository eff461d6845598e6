/**
 * Returns (README "Returns") over the real service and inventory: a customer
 * returns delivered units within the window; staff approve and receive; the
 * units go back into stock exactly once (also when ReturnStock fails and the
 * reconciler retries) and their price falls due. Never more returned than
 * delivered — on real Postgres also under concurrent requests.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OrderRefundDueSchema, OrderReturnChangedSchema } from "../../../gen/orders/v1/order_events_pb.js";
import { OrderStatus, PaymentEventKind, ReturnStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { rowsOf } from "../../../src/platform/db.js";
import { customer } from "../../support/auth.js";
import { onRealPostgres } from "../../support/db.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

const faults = createFaults();
let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness({ transformImpl: faults.transformImpl });
});
afterEach(() => faults.clear());
afterAll(() => h.close());

/** A delivered order of `quantity` units of a fresh product at 1000 EUR (stock 50), paid in full. */
async function deliveredOrder(quantity: number) {
  const [productId, customerId] = [await newProduct(h, 50), await newCustomer(h)];
  const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity }] });
  const orderId = order!.id;
  await h.as(servicePrincipal("payments")).orders.reportPayment({
    orderId,
    providerEventId: `cap-${orderId}`,
    kind: PaymentEventKind.CAPTURED,
    amount: { currencyCode: "EUR", amountMinor: 1000n * BigInt(quantity) },
  });
  await h.orders.updateShippingInfo({ orderId, shippingInfo: { carrier: "UPS", trackingNumber: "1Z" } });
  for (const status of [OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) await h.orders.updateOrderStatus({ orderId, status });
  return { orderId, productId, customerId };
}

async function eventsOf(orderId: string): Promise<{ type: string; payload: JsonValue }[]> {
  const rows = rowsOf<{ type: string; payload: string | JsonValue }>(
    await h.database.db.execute(sql`select event_type as type, payload from orders.outbox where aggregate_id = ${orderId}::uuid order by id`),
  );
  return rows.map((r) => ({ type: r.type, payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as JsonValue) : r.payload }));
}

describe("returns", () => {
  it("the customer returns a unit; staff approve and receive it: back in stock once, its price due", async () => {
    const { orderId, productId, customerId } = await deliveredOrder(3);
    expect((await stockOf(h, productId)).onHand).toBe(47);
    const mine = h.as(customer(customerId)).orders;
    const { return: ret } = await mine.requestReturn({ orderId, requestId: "r1", lines: [{ lineNumber: 1, quantity: 1 }], reason: "chipped" });
    expect(ret!.status).toBe(ReturnStatus.REQUESTED);
    // A repeat answers the same return.
    expect((await mine.requestReturn({ orderId, requestId: "r1", lines: [{ lineNumber: 1, quantity: 1 }], reason: "chipped" })).return!.id).toBe(ret!.id);

    await h.orders.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.APPROVED });
    const { order, return: received } = await h.orders.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.RECEIVED, reason: "arrived" });
    expect(received!.refund!.amountMinor).toBe(1000n);
    expect(order!.payment!.refundPending!.amountMinor).toBe(1000n);
    expect((await stockOf(h, productId)).onHand).toBe(48);
    // Again: nothing changes, nothing restocked twice.
    await h.orders.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.RECEIVED });
    await h.module.reconcile();
    expect((await stockOf(h, productId)).onHand).toBe(48);

    const events = await eventsOf(orderId);
    const [changed, due] = events.slice(-2);
    expect(changed!.type).toBe("orders.v1.OrderReturnChanged");
    expect(fromJson(OrderReturnChangedSchema, changed!.payload).return!.status).toBe(ReturnStatus.RECEIVED);
    expect(fromJson(OrderRefundDueSchema, due!.payload).amount!.amountMinor).toBe(1000n);
    // Another customer cannot see it to return anything.
    await expectFailure(
      h.as(customer(await newCustomer(h))).orders.requestReturn({ orderId, requestId: "x", lines: [{ lineNumber: 1, quantity: 1 }] }),
      Code.NotFound,
      "ORDER_NOT_FOUND",
    );
  });

  it("never returns more than delivered", async () => {
    const { orderId } = await deliveredOrder(2);
    await h.orders.requestReturn({ orderId, requestId: "a", lines: [{ lineNumber: 1, quantity: 1 }] });
    await expectFailure(h.orders.requestReturn({ orderId, requestId: "b", lines: [{ lineNumber: 1, quantity: 2 }] }), Code.FailedPrecondition, "RETURN_EXCEEDS_DELIVERED");
    // Nothing delivered yet: nothing to return.
    const [p, c] = [await newProduct(h, 5), await newCustomer(h)];
    const { order } = await h.orders.createOrder({ customerId: c, requestId: requestId(), items: [{ productId: p, quantity: 1 }] });
    await expectFailure(h.orders.requestReturn({ orderId: order!.id, requestId: "a", lines: [{ lineNumber: 1, quantity: 1 }] }), Code.FailedPrecondition, "RETURN_EXCEEDS_DELIVERED");
  });

  it("a received return whose restock failed is restocked by the reconciler, once", async () => {
    const { orderId, productId } = await deliveredOrder(2);
    const { return: ret } = await h.orders.requestReturn({ orderId, requestId: "r", lines: [{ lineNumber: 1, quantity: 2 }] });
    await h.orders.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.APPROVED });
    faults.set("returnStock", { kind: "unavailable" });
    await h.orders.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.RECEIVED });
    expect((await stockOf(h, productId)).onHand).toBe(48);
    faults.clear();
    await h.module.reconcile();
    await h.module.reconcile();
    expect((await stockOf(h, productId)).onHand).toBe(50);
  });

  it("holds the customer to RETURN_WINDOW_DAYS after delivery; staff are not", async () => {
    const { orderId, customerId } = await deliveredOrder(1);
    // Delivered 40 days ago.
    await h.database.db.execute(
      sql`update orders.orders set shipments = jsonb_set(shipments, '{0,deliverTime}', to_jsonb(to_char((now() - interval '40 days') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))) where id = ${orderId}::uuid`,
    );
    await expectFailure(
      h.as(customer(customerId)).orders.requestReturn({ orderId, requestId: "late", lines: [{ lineNumber: 1, quantity: 1 }] }),
      Code.FailedPrecondition,
      "RETURN_WINDOW_CLOSED",
    );
    expect((await h.orders.requestReturn({ orderId, requestId: "late", lines: [{ lineNumber: 1, quantity: 1 }] })).return!.status).toBe(ReturnStatus.REQUESTED);
  });

  it.skipIf(!onRealPostgres)("concurrent returns never take back more than delivered (real Postgres)", async () => {
    const { orderId } = await deliveredOrder(5);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => h.orders.requestReturn({ orderId, requestId: `c${i}`, lines: [{ lineNumber: 1, quantity: 1 }] })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    const { order } = await h.orders.getOrder({ orderId });
    expect(order!.returns.reduce((n, r) => n + r.lines[0]!.quantity, 0)).toBe(5);
  });
});
