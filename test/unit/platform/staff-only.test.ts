import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  GetOrderResponseSchema,
  ListOrdersResponseSchema,
  OrderSchema,
  OrderService,
  WatchOrderResponseSchema,
  type Order,
} from "../../../gen/orders/v1/order_service_pb.js";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { freezeMessage } from "../../../src/platform/rpc/message-encoding.js";
import { seesStaffOnly, staffOnlyRedactor } from "../../../src/platform/rpc/staff-only.js";

const annotated = (): Order =>
  create(OrderSchema, {
    id: "o-1",
    customerNote: "leave at the back door",
    staffNotes: [{ id: "n-1", text: "called the customer", author: "staff:ann" }],
    tags: ["fraud-review", "gift"],
    metadata: { erp_id: "SO-4711" },
  });

describe("staff-only answer fields", () => {
  it("are exactly Order.staff_notes, tags and metadata (the customer note is the customer's own)", () => {
    const redact = staffOnlyRedactor(OrderSchema)!;
    const seen = redact(annotated());
    expect(seen.staffNotes).toEqual([]);
    expect(seen.tags).toEqual([]);
    expect(seen.metadata).toEqual({});
    expect(seen.customerNote).toBe("leave at the back door");
    expect(seen.id).toBe("o-1");
  });

  it("are cleared wherever an order sits in an answer: a field, a list, a stream message", () => {
    const order = annotated();
    const get = staffOnlyRedactor(GetOrderResponseSchema)!(create(GetOrderResponseSchema, { order }));
    expect(get.order?.tags).toEqual([]);
    const list = staffOnlyRedactor(ListOrdersResponseSchema)!(create(ListOrdersResponseSchema, { orders: [order, order] }));
    expect(list.orders.map((o) => o.staffNotes.length)).toEqual([0, 0]);
    const watch = staffOnlyRedactor(WatchOrderResponseSchema)!({ order, version: 3 });
    expect(watch.order.metadata).toEqual({});
    expect(watch.version).toBe(3);
  });

  it("are never cleared in place: the implementation's message (a cached one) stays whole", () => {
    const order = annotated();
    staffOnlyRedactor(OrderSchema)!(order);
    expect(order.tags).toEqual(["fraud-review", "gift"]);
    expect(order.staffNotes).toHaveLength(1);
  });

  it("cost no copy when none is set, and one copy per frozen message (kept frozen, so its encoding is reused)", () => {
    const redact = staffOnlyRedactor(GetOrderResponseSchema)!;
    const plain = create(GetOrderResponseSchema, { order: create(OrderSchema, { id: "o-2", customerNote: "hi" }) });
    expect(redact(plain)).toBe(plain);
    const cached = freezeMessage(create(GetOrderResponseSchema, { order: annotated() }));
    const first = redact(cached);
    expect(first).not.toBe(cached);
    expect(redact(cached)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first.order?.tags).toEqual([]);
  });

  it("leave answers without any alone: no redactor at all", () => {
    for (const service of [CustomerService, InventoryService]) {
      for (const method of service.methods) expect(staffOnlyRedactor(method.output), method.name).toBeUndefined();
    }
  });

  it("are cleared in every OrderService answer that carries an order", () => {
    const carrying = OrderService.methods.filter((m) => m.output.fields.some((f) => f.message?.typeName === OrderSchema.typeName));
    expect(carrying.length).toBeGreaterThan(10);
    for (const method of carrying) expect(staffOnlyRedactor(method.output), method.name).toBeDefined();
  });

  it("are seen by staff, admins and services only", () => {
    expect(["customer", "anonymous"].map((role) => seesStaffOnly({ role: role as "customer", id: "" }))).toEqual([false, false]);
    expect(["staff", "admin", "service"].map((role) => seesStaffOnly({ role: role as "staff", id: "x" }))).toEqual([true, true, true]);
  });
});
