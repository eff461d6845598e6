/**
 * CancelUnshipped (README "Shipments"): once a parcel has left, the rest of
 * the order is cancelled — PENDING parcels and the units in no parcel that
 * left — and exactly those units go back to inventory, exactly once: right
 * after the commit, or, with inventory's ReturnStock failing, by the
 * reconciler once it answers (a repeat never returns twice). With money
 * captured the cancelled units' value falls due. The real inventory module
 * (ReturnStock) takes the stock back.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OrderRefundDueSchema, OrderUnshippedCancelledSchema } from "../../../gen/orders/v1/order_events_pb.js";
import { OrderStatus, PaymentEventKind, ShipmentStatus, type Order } from "../../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { rowsOf } from "../../../src/platform/db.js";
import { customer } from "../../support/auth.js";
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

const INFO = { carrier: "UPS", trackingNumber: "1Z" };

/** An order of two products, 3 and 2 units at 1000 EUR, its first line's 1 unit shipped, 1 more in a PENDING parcel. */
async function partlyShipped() {
  const [a, b, customerId] = [await newProduct(h, 50), await newProduct(h, 50), await newCustomer(h)];
  const { order } = await h.orders.createOrder({
    customerId,
    requestId: requestId(),
    items: [{ productId: a, quantity: 3 }, { productId: b, quantity: 2 }],
  });
  const id = order!.id;
  const { shipment } = await h.orders.createShipment({ orderId: id, requestId: "p1", lines: [{ lineNumber: 1, quantity: 1 }], shippingInfo: INFO });
  await h.orders.updateShipmentStatus({ orderId: id, shipmentId: shipment!.id, status: ShipmentStatus.SHIPPED });
  await h.orders.createShipment({ orderId: id, requestId: "p2", lines: [{ lineNumber: 1, quantity: 1 }] });
  return { id, a, b, customerId };
}

async function eventsOf(orderId: string): Promise<{ type: string; version: number; payload: JsonValue }[]> {
  const rows = rowsOf<{ type: string; version: number; payload: string | JsonValue }>(
    await h.database.db.execute(sql`select event_type as type, version, payload from orders.outbox where aggregate_id = ${orderId}::uuid order by id`),
  );
  return rows.map((r) => ({ ...r, payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as JsonValue) : r.payload }));
}

const lineView = (o: Order) => o.lines.map((l) => [l.quantity, l.cancelledQuantity]);

describe("CancelUnshipped", () => {
  it("cancels the rest, returns exactly those units to inventory, and the order is SHIPPED", async () => {
    const { id, a, b } = await partlyShipped();
    const before = [await stockOf(h, a), await stockOf(h, b)];
    expect(before.map((s) => s.onHand)).toEqual([47, 48]);

    const { order } = await h.orders.cancelUnshipped({ orderId: id, reason: "warehouse out of stock" });
    expect(order!.status).toBe(OrderStatus.SHIPPED);
    expect(lineView(order!)).toEqual([[3, 2], [2, 2]]);
    expect(order!.shipments.map((s) => s.status)).toEqual([ShipmentStatus.SHIPPED, ShipmentStatus.CANCELLED]);
    // 2 units of a and 2 of b back on hand; what left stays sold.
    expect([(await stockOf(h, a)).onHand, (await stockOf(h, b)).onHand]).toEqual([49, 50]);

    const events = await eventsOf(id);
    const last = events.at(-1)!;
    expect([last.type, last.version]).toEqual(["orders.v1.OrderUnshippedCancelled", events.at(-2)!.version + 1]);
    const data = fromJson(OrderUnshippedCancelledSchema, last.payload);
    expect(data.stockReturned.map((s) => [s.productId, s.quantity])).toEqual([[a, 2], [b, 2]]);
    expect(data.changes.map((c) => c.toStatus)).toEqual([OrderStatus.SHIPPED]);

    // Again: nothing left to cancel, nothing returned twice.
    const again = await h.orders.cancelUnshipped({ orderId: id });
    expect(again.order!.etag).toBe(order!.etag);
    expect([(await stockOf(h, a)).onHand, (await stockOf(h, b)).onHand]).toEqual([49, 50]);
  });

  it("returns the stock through the reconciler when inventory fails, and only once", async () => {
    const { id, a, b } = await partlyShipped();
    faults.set("returnStock", { kind: "unavailable" });
    const { order } = await h.orders.cancelUnshipped({ orderId: id });
    expect(order!.status).toBe(OrderStatus.SHIPPED);
    expect([(await stockOf(h, a)).onHand, (await stockOf(h, b)).onHand]).toEqual([47, 48]);
    // Still down: the pass leaves it.
    await h.module.reconcile();
    expect([(await stockOf(h, a)).onHand, (await stockOf(h, b)).onHand]).toEqual([47, 48]);

    faults.clear();
    expect(await h.module.reconcile()).toBeGreaterThanOrEqual(1);
    expect([(await stockOf(h, a)).onHand, (await stockOf(h, b)).onHand]).toEqual([49, 50]);
    await h.module.reconcile();
    expect([(await stockOf(h, a)).onHand, (await stockOf(h, b)).onHand]).toEqual([49, 50]);
  });

  it("a restock retried after inventory took it (its answer lost) is not taken twice", async () => {
    const { id, a } = await partlyShipped();
    const { order } = await h.orders.cancelUnshipped({ orderId: id });
    expect(order!.status).toBe(OrderStatus.SHIPPED);
    // Mark the restock PENDING again, as if the answer never came: the reconciler's retry reaches inventory again.
    await h.database.db.execute(
      sql`update orders.orders set restock_pending = true, restocks = jsonb_set(restocks, '{0,state}', '"PENDING"') where id = ${id}::uuid`,
    );
    await h.module.reconcile();
    expect((await stockOf(h, a)).onHand).toBe(49);
  });

  it("owes back the cancelled units' value when money was captured", async () => {
    const { id } = await partlyShipped();
    const payments = h.as(servicePrincipal("payments")).orders;
    await payments.reportPayment({ orderId: id, providerEventId: `cap-${id}`, kind: PaymentEventKind.CAPTURED, amount: { currencyCode: "EUR", amountMinor: 5000n } });
    const { order } = await h.orders.cancelUnshipped({ orderId: id });
    expect(order!.payment!.refundPending!.amountMinor).toBe(4000n);
    const last = (await eventsOf(id)).at(-1)!;
    expect(last.type).toBe("orders.v1.OrderRefundDue");
    expect(fromJson(OrderRefundDueSchema, last.payload).amount!.amountMinor).toBe(4000n);
  });

  it("with nothing shipped cancels the whole order; a customer cancels only their own", async () => {
    const [p, owner, other] = [await newProduct(h, 10), await newCustomer(h), await newCustomer(h)];
    const { order } = await h.orders.createOrder({ customerId: owner, requestId: requestId(), items: [{ productId: p, quantity: 2 }] });
    await expectFailure(h.as(customer(other)).orders.cancelUnshipped({ orderId: order!.id }), Code.NotFound, "ORDER_NOT_FOUND");
    const { order: cancelled } = await h.as(customer(owner)).orders.cancelUnshipped({ orderId: order!.id });
    expect(cancelled!.status).toBe(OrderStatus.CANCELLED);
    await expect.poll(async () => (await stockOf(h, p)).onHand).toBe(10);
  });
});
