/**
 * The order's timeline (README "Timeline") over the real service: after a
 * whole life — created, paid, shipped in two parcels, delivered, annotated,
 * partly returned and refunded; another cancelled with money captured, then
 * deleted — it has exactly one entry per version, each with its outbox
 * row's version and event type, whichever path wrote the change. A customer
 * sees their own order's entries without the staff-only ones; pages walk it
 * oldest first; the entries migration 0010 copied from order_history read as
 * the timeline's own. Runs on PGlite and on Postgres (DATABASE_URL).
 */
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentEventKind, ReturnStatus, ShipmentStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { rowsOf } from "../../../src/platform/db.js";
import { customer, STAFF, WAREHOUSE } from "../../support/auth.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

const payments = () => h.as(servicePrincipal("payments")).orders;

/** (version, type) of the order's rows in `table`, in write order. */
async function rowsIn(table: "outbox" | "order_timeline", orderId: string): Promise<[number | null, string][]> {
  const query =
    table === "outbox"
      ? sql`select version, event_type as type from orders.outbox where aggregate_id = ${orderId}::uuid order by id`
      : sql`select version, type from orders.order_timeline where order_id = ${orderId}::uuid order by id`;
  return rowsOf<{ version: number | null; type: string }>(await h.database.db.execute(query)).map((r) => [r.version, r.type]);
}

/** The whole timeline through the RPC, page by page. */
async function timelineOf(client: OrdersHarness["orders"], orderId: string, pageSize = 0) {
  const entries = [];
  let pageToken = "";
  do {
    const page = await client.listOrderTimeline({ orderId, pageSize, pageToken });
    entries.push(...page.entries);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return entries;
}

/** A customer's order of 2 + 1 units (1000 EUR each), created by the customer and captured in full. */
async function paidOrder() {
  const [a, b, customerId] = [await newProduct(h, 50), await newProduct(h, 50), await newCustomer(h)];
  const mine = h.as(customer(customerId)).orders;
  const { order } = await mine.createOrder({ customerId, requestId: requestId(), items: [{ productId: a, quantity: 2 }, { productId: b, quantity: 1 }] });
  const orderId = order!.id;
  await payments().reportPayment({ orderId, providerEventId: `cap-${orderId}`, kind: PaymentEventKind.CAPTURED, amount: { currencyCode: "EUR", amountMinor: 3000n } });
  return { orderId, customerId, mine };
}

describe("one entry per version", () => {
  it("a whole life: the timeline's versions and types are the outbox's; customers see no staff-only entry", async () => {
    const { orderId, customerId, mine } = await paidOrder();
    const warehouse = h.as(WAREHOUSE).orders;
    const staff = h.as(STAFF).orders;
    const parcels = [];
    for (const [n, lineNumber, quantity] of [[1, 1, 2], [2, 2, 1]] as const) {
      const { shipment } = await warehouse.createShipment({ orderId, requestId: `p${n}`, lines: [{ lineNumber, quantity }], shippingInfo: { carrier: "DHL", trackingNumber: `J${n}` } });
      parcels.push(shipment!.id);
    }
    for (const status of [ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED]) {
      for (const shipmentId of parcels) await warehouse.updateShipmentStatus({ orderId, shipmentId, status });
    }
    await staff.addOrderNote({ orderId, requestId: "call", text: "Customer called about a chipped mug" });
    await staff.updateOrderTags({ orderId, addTags: ["fragile"] });
    await staff.updateOrderMetadata({ orderId, set: { erp_id: "SO-1" } });
    const { return: ret } = await mine.requestReturn({ orderId, requestId: "r1", lines: [{ lineNumber: 1, quantity: 1 }], reason: "chipped" });
    await staff.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.APPROVED });
    await staff.updateReturnStatus({ orderId, returnId: ret!.id, status: ReturnStatus.RECEIVED, reason: "arrived" });
    await payments().reportPayment({ orderId, providerEventId: `ref-${orderId}`, kind: PaymentEventKind.REFUNDED, amount: { currencyCode: "EUR", amountMinor: 1000n } });
    // The changes after the annotations kept them (they are written only when they change).
    const { order } = await h.orders.getOrder({ orderId });
    expect([order!.staffNotes.length, order!.tags, order!.metadata]).toEqual([1, ["fragile"], { erp_id: "SO-1" }]);

    const outbox = await rowsIn("outbox", orderId);
    expect(outbox).toHaveLength(17);
    expect(outbox.map(([v]) => v)).toEqual(Array.from({ length: outbox.length }, (_, i) => i + 1));
    expect(await rowsIn("order_timeline", orderId)).toEqual(outbox);
    const all = await timelineOf(h.as(STAFF).orders, orderId);
    expect(all.map((e) => [e.version, e.type])).toEqual(outbox);
    expect(all.map((e) => e.summary).slice(0, 3)).toEqual(["Created as PENDING", "Status PENDING → CONFIRMED", "Captured 30.00 EUR (payment CAPTURED)"]);
    expect(all[0]!.actor).toBe(`customer:${customerId}`);
    expect(all.find((e) => e.type === "orders.v1.OrderRefundDue")).toMatchObject({ summary: "Refund due 10.00 EUR", amount: { currencyCode: "EUR", amountMinor: 1000n } });
    expect(all.find((e) => e.type === "orders.v1.OrderNoteAdded")).toMatchObject({ staffOnly: true, actor: "staff:test-staff" });
    expect(all.filter((e) => e.staffOnly).map((e) => e.type)).toEqual(["orders.v1.OrderNoteAdded", "orders.v1.OrderTagsChanged", "orders.v1.OrderMetadataChanged"]);
    for (let i = 1; i < all.length; i++) expect(all[i]!.changeTime!.seconds >= all[i - 1]!.changeTime!.seconds).toBe(true);

    const seen = await timelineOf(mine, orderId);
    expect(seen.map((e) => e.version)).toEqual(all.filter((e) => !e.staffOnly).map((e) => e.version));
    expect(seen.some((e) => e.staffOnly)).toBe(false);
  });

  it("a cancellation with money captured (two versions in one commit), then the deletion: one entry each", async () => {
    const { orderId, mine } = await paidOrder();
    await mine.cancelOrder({ orderId, reason: "changed my mind" });
    const before = await timelineOf(mine, orderId);
    expect(before.slice(-2).map((e) => [e.type, e.summary, e.reason])).toEqual([
      ["orders.v1.OrderCancelled", "Status CONFIRMED → CANCELLED", "changed my mind"],
      ["orders.v1.OrderRefundDue", "Refund due 30.00 EUR", "order cancelled"],
    ]);
    await h.orders.deleteOrder({ orderId });
    const outbox = await rowsIn("outbox", orderId);
    expect(outbox.at(-1)).toEqual([outbox.length, "orders.v1.OrderDeleted"]);
    expect(await rowsIn("order_timeline", orderId)).toEqual(outbox);
    // Deleted: NOT_FOUND to the timeline as to every RPC.
    await expectFailure(h.orders.listOrderTimeline({ orderId }), Code.NotFound, "ORDER_NOT_FOUND");
  });

  it("an order cancelled before it was paid, and one the staff delete while it holds stock", async () => {
    const [productId, customerId] = [await newProduct(h, 50), await newCustomer(h)];
    const make = async () => (await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!.id;
    const cancelled = await make();
    await h.orders.cancelOrder({ orderId: cancelled });
    expect((await timelineOf(h.orders, cancelled)).map((e) => e.type)).toEqual(["orders.v1.OrderCreated", "orders.v1.OrderStatusChanged", "orders.v1.OrderCancelled"]);
    const deleted = await make();
    await h.orders.deleteOrder({ orderId: deleted });
    const timeline = await rowsIn("order_timeline", deleted);
    expect(timeline).toEqual(await rowsIn("outbox", deleted));
    expect(timeline.at(-1)).toEqual([3, "orders.v1.OrderDeleted"]);
  });
});

describe("reading it", () => {
  it("pages oldest first by an opaque token bound to the order", async () => {
    const { orderId, customerId } = await paidOrder();
    for (let i = 0; i < 5; i++) await h.orders.addOrderNote({ orderId, requestId: `n${i}`, text: `note ${i}` });
    const whole = await timelineOf(h.orders, orderId);
    expect(whole).toHaveLength(8);
    expect(await timelineOf(h.orders, orderId, 3)).toEqual(whole);
    const first = await h.orders.listOrderTimeline({ orderId, pageSize: 3 });
    expect(first.entries.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(first.nextPageToken).not.toBe("");
    expect((await h.orders.listOrderTimeline({ orderId, pageSize: 8 })).nextPageToken).toBe("");

    const other = await paidOrder();
    await expectFailure(h.orders.listOrderTimeline({ orderId: other.orderId, pageToken: first.nextPageToken }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
    await expectFailure(h.orders.listOrderTimeline({ orderId, pageToken: "bm90IGEgdG9rZW4" }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
    // A customer's walk skips the staff-only entries, whatever the page size.
    expect((await timelineOf(h.as(customer(customerId)).orders, orderId, 1)).map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it("another customer's and an unknown order are NOT_FOUND (a deleted one: above)", async () => {
    const { orderId } = await paidOrder();
    const stranger = h.as(customer(await newCustomer(h))).orders;
    await expectFailure(stranger.listOrderTimeline({ orderId }), Code.NotFound, "ORDER_NOT_FOUND");
    await expectFailure(h.orders.listOrderTimeline({ orderId: "00000000-0000-4000-8000-000000000000" }), Code.NotFound, "ORDER_NOT_FOUND");
  });
});

describe("migration 0010's backfill", () => {
  /** The migration's last statement, limited to one order (the rest of this database has its timeline already). */
  function backfillOf(orderId: string) {
    const statements = readFileSync(new URL("../../../migrations/0010_annotations_search.sql", import.meta.url), "utf8").split("--> statement-breakpoint");
    const backfill = statements.find((s) => s.includes('INSERT INTO "orders"."order_timeline"'))!;
    const limited = backfill.replace('FROM "orders"."order_history" h', `FROM "orders"."order_history" h WHERE h."order_id" = '${orderId}'`);
    expect(limited).not.toBe(backfill);
    return sql.raw(limited);
  }

  it("copies an order's history from before the timeline as entries without a version, in the timeline's words", async () => {
    const { orderId, mine } = await paidOrder();
    await mine.cancelOrder({ orderId, reason: "too late" });
    // As if the order had been written before the timeline existed.
    await h.database.db.execute(sql`delete from orders.order_timeline where order_id = ${orderId}::uuid`);
    await h.database.db.execute(backfillOf(orderId));
    await h.orders.addOrderNote({ orderId, requestId: "after", text: "after the migration" });
    const entries = await timelineOf(h.orders, orderId);
    expect(entries.map((e) => [e.version, e.type, e.summary, e.reason])).toEqual([
      [0, "orders.v1.OrderCreated", "Created as PENDING", ""],
      [0, "orders.v1.OrderStatusChanged", "Status PENDING → CONFIRMED", "stock sold"],
      [0, "orders.v1.OrderCancelled", "Status CONFIRMED → CANCELLED", "too late"],
      [6, "orders.v1.OrderNoteAdded", "Note: after the migration", ""],
    ]);
    expect(entries[0]!.actor).toMatch(/^customer:/);
    expect((await timelineOf(mine, orderId)).map((e) => e.version)).toEqual([0, 0, 0]);
  });
});
