/**
 * Customer notes, staff notes, tags and metadata over the real service
 * (README "Notes, tags and metadata"): stored, read back and published; a
 * request that changes nothing makes no version and no event; a note is
 * idempotent by request id, also when repeats race; concurrent notes all
 * land, each its own version; final orders take them, deleted ones are
 * NOT_FOUND. Runs on PGlite and on Postgres (DATABASE_URL).
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderMetadataChangedSchema, OrderNoteAddedSchema, OrderTagsChangedSchema } from "../../../gen/orders/v1/order_events_pb.js";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { rowsOf } from "../../../src/platform/db.js";
import { customer, STAFF } from "../../support/auth.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

async function newOrder(customerNote = "") {
  const [productId, customerId] = [await newProduct(h, 100), await newCustomer(h)];
  const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }], customerNote });
  return { orderId: order!.id, customerId, productId };
}

async function eventsOf(orderId: string): Promise<{ type: string; version: number; payload: JsonValue }[]> {
  const rows = rowsOf<{ type: string; version: number; payload: string | JsonValue }>(
    await h.database.db.execute(sql`select event_type as type, version, payload from orders.outbox where aggregate_id = ${orderId}::uuid order by id`),
  );
  return rows.map((r) => ({ type: r.type, version: r.version, payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as JsonValue) : r.payload }));
}

const versionOf = async (orderId: string) => (await eventsOf(orderId)).length;

describe("customer note", () => {
  it("is stored with the order, read back, and part of the request's idempotency", async () => {
    const [productId, customerId] = [await newProduct(h, 100), await newCustomer(h)];
    const request = { customerId, requestId: requestId(), items: [{ productId, quantity: 1 }], customerNote: "leave at the back door" };
    const mine = h.as(customer(customerId)).orders;
    const { order } = await mine.createOrder(request);
    expect(order!.customerNote).toBe("leave at the back door");
    expect((await mine.getOrder({ orderId: order!.id })).order!.customerNote).toBe("leave at the back door");
    const [created] = await eventsOf(order!.id);
    expect(created!.payload).toMatchObject({ order: { customerNote: "leave at the back door" } });
    // The same request again answers the same order; another note reuses the key.
    expect((await mine.createOrder(request)).order!.id).toBe(order!.id);
    await expectFailure(mine.createOrder({ ...request, customerNote: "ring twice" }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
    await expectFailure(mine.createOrder({ ...request, customerNote: "" }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
  });

  it("an order without one has none, and its repeat without one still replays", async () => {
    const [productId, customerId] = [await newProduct(h, 100), await newCustomer(h)];
    const request = { customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] };
    const { order } = await h.orders.createOrder(request);
    expect(order!.customerNote).toBe("");
    expect((await h.orders.createOrder(request)).order!.id).toBe(order!.id);
  });
});

describe("staff notes", () => {
  it("adds a note by the caller, answers it on a repeat, refuses its request id with other text", async () => {
    const { orderId } = await newOrder();
    const staff = h.as(STAFF).orders;
    const first = await staff.addOrderNote({ orderId, requestId: "call-1", text: "Customer called: wants it gift-wrapped" });
    expect(first.note).toMatchObject({ requestId: "call-1", text: "Customer called: wants it gift-wrapped", author: "staff:test-staff" });
    expect(first.note!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.order!.staffNotes.map((n) => n.id)).toEqual([first.note!.id]);
    const version = await versionOf(orderId);

    // A repeat — even with the etag from before the note — answers the same note and writes nothing.
    const again = await staff.addOrderNote({ orderId, requestId: "call-1", text: "Customer called: wants it gift-wrapped", etag: "stale" });
    expect(again.note).toEqual(first.note);
    expect(again.order!.etag).toBe(first.order!.etag);
    expect(await versionOf(orderId)).toBe(version);
    await expectFailure(staff.addOrderNote({ orderId, requestId: "call-1", text: "something else" }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");

    const second = await staff.addOrderNote({ orderId, requestId: "call-2", text: "Wrapped", etag: first.order!.etag });
    expect(second.order!.staffNotes.map((n) => n.text)).toEqual(["Customer called: wants it gift-wrapped", "Wrapped"]);
    await expectFailure(staff.addOrderNote({ orderId, requestId: "call-3", text: "late", etag: first.order!.etag }), Code.Aborted, "ETAG_MISMATCH");

    const events = await eventsOf(orderId);
    const [noted] = events.filter((e) => e.type === "orders.v1.OrderNoteAdded");
    const decoded = fromJson(OrderNoteAddedSchema, noted!.payload);
    expect(decoded.note).toMatchObject({ id: first.note!.id, text: "Customer called: wants it gift-wrapped", author: "staff:test-staff" });
    expect(decoded.version).toBe(noted!.version);
    // Read back with the order, as written.
    expect((await h.orders.getOrder({ orderId })).order!.staffNotes).toEqual(second.order!.staffNotes);
  });

  it("20 concurrent notes with distinct request ids: 20 notes, 20 versions, 20 events", async () => {
    const { orderId } = await newOrder();
    const before = await versionOf(orderId);
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.orders.addOrderNote({ orderId, requestId: `n-${i}`, text: `note ${i}` })));
    const { order } = await h.orders.getOrder({ orderId });
    expect(order!.staffNotes).toHaveLength(20);
    expect(new Set(order!.staffNotes.map((n) => n.requestId)).size).toBe(20);
    const events = await eventsOf(orderId);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: before + 20 }, (_, i) => i + 1));
    expect(events.slice(before).every((e) => e.type === "orders.v1.OrderNoteAdded")).toBe(true);
  });

  it("concurrent repeats of one request id: one note, one version", async () => {
    const { orderId } = await newOrder();
    const before = await versionOf(orderId);
    const answers = await Promise.all(Array.from({ length: 12 }, () => h.orders.addOrderNote({ orderId, requestId: "same", text: "once" })));
    expect(new Set(answers.map((a) => a.note!.id)).size).toBe(1);
    expect((await h.orders.getOrder({ orderId })).order!.staffNotes).toHaveLength(1);
    expect(await versionOf(orderId)).toBe(before + 1);
  });
});

describe("tags and metadata", () => {
  it("tags: sorted and unique, a change only when one comes or goes, its event naming them", async () => {
    const { orderId } = await newOrder();
    const staff = h.as(STAFF).orders;
    const { order } = await staff.updateOrderTags({ orderId, addTags: ["vip", "gift"] });
    expect(order!.tags).toEqual(["gift", "vip"]);
    const version = await versionOf(orderId);
    const same = await staff.updateOrderTags({ orderId, addTags: ["gift"], removeTags: ["fraud-review"] });
    expect(same.order!.etag).toBe(order!.etag);
    expect(await versionOf(orderId)).toBe(version);
    const { order: after } = await staff.updateOrderTags({ orderId, addTags: ["rush"], removeTags: ["vip"], etag: order!.etag });
    expect(after!.tags).toEqual(["gift", "rush"]);
    const last = (await eventsOf(orderId)).at(-1)!;
    expect(last.type).toBe("orders.v1.OrderTagsChanged");
    expect(fromJson(OrderTagsChangedSchema, last.payload)).toMatchObject({ added: ["rush"], removed: ["vip"], actor: "staff:test-staff" });
    await expectFailure(staff.updateOrderTags({ orderId, addTags: ["a"], removeTags: ["a"] }), Code.InvalidArgument, "TAG_ADDED_AND_REMOVED");
    const many = Array.from({ length: 19 }, (_, i) => `t${i}`);
    await expectFailure(staff.updateOrderTags({ orderId, addTags: many }), Code.FailedPrecondition, "TAG_LIMIT_REACHED");
    expect((await staff.updateOrderTags({ orderId, addTags: many, removeTags: ["rush"] })).order!.tags).toHaveLength(20);
  });

  it("metadata: set, changed and removed; a request that changes nothing makes no version", async () => {
    const { orderId } = await newOrder();
    const staff = h.as(STAFF).orders;
    const { order } = await staff.updateOrderMetadata({ orderId, set: { erp_id: "SO-4711", market: "eu" } });
    expect(order!.metadata).toEqual({ erp_id: "SO-4711", market: "eu" });
    const version = await versionOf(orderId);
    await staff.updateOrderMetadata({ orderId, set: { erp_id: "SO-4711" }, removeKeys: ["absent"] });
    expect(await versionOf(orderId)).toBe(version);
    const { order: after } = await staff.updateOrderMetadata({ orderId, set: { erp_id: "SO-4712" }, removeKeys: ["market"] });
    expect(after!.metadata).toEqual({ erp_id: "SO-4712" });
    const last = (await eventsOf(orderId)).at(-1)!;
    expect(fromJson(OrderMetadataChangedSchema, last.payload)).toMatchObject({ setKeys: ["erp_id"], removedKeys: ["market"], actor: "staff:test-staff" });
    expect((await h.orders.getOrder({ orderId })).order!.metadata).toEqual({ erp_id: "SO-4712" });
    await expectFailure(staff.updateOrderMetadata({ orderId, set: { a: "1" }, removeKeys: ["a"] }), Code.InvalidArgument, "METADATA_KEY_SET_AND_REMOVED");
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v"]));
    await expectFailure(staff.updateOrderMetadata({ orderId, set: many }), Code.FailedPrecondition, "METADATA_LIMIT_REACHED");
  });
});

describe("which orders take them", () => {
  it("final orders (DELIVERED, CANCELLED) do; deleted and unknown ones are NOT_FOUND", async () => {
    const delivered = await newOrder();
    await h.orders.updateShippingInfo({ orderId: delivered.orderId, shippingInfo: { carrier: "DHL", trackingNumber: "1" } });
    for (const status of [OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) await h.orders.updateOrderStatus({ orderId: delivered.orderId, status });
    const cancelled = await newOrder();
    await h.orders.cancelOrder({ orderId: cancelled.orderId });
    for (const { orderId } of [delivered, cancelled]) {
      await h.orders.addOrderNote({ orderId, requestId: "n", text: "after the end" });
      await h.orders.updateOrderTags({ orderId, addTags: ["reviewed"] });
      await h.orders.updateOrderMetadata({ orderId, set: { audit: "ok" } });
    }
    const deleted = await newOrder();
    await h.orders.deleteOrder({ orderId: deleted.orderId });
    const unknown = "00000000-0000-4000-8000-000000000000";
    for (const orderId of [deleted.orderId, unknown]) {
      await expectFailure(h.orders.addOrderNote({ orderId, requestId: "n", text: "x" }), Code.NotFound, "ORDER_NOT_FOUND");
      await expectFailure(h.orders.updateOrderTags({ orderId, addTags: ["x"] }), Code.NotFound, "ORDER_NOT_FOUND");
      await expectFailure(h.orders.updateOrderMetadata({ orderId, set: { x: "y" } }), Code.NotFound, "ORDER_NOT_FOUND");
    }
  });
});
