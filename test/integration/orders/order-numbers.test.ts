/**
 * Order numbers (README "Orders"): every stored order has one — decimal
 * digits, unique, growing — assigned by CreateOrder's one statement (the
 * sequence, no counter row), returned by every read and carried by its
 * events; a repeated CreateOrder answers the same number. On real Postgres,
 * concurrent CreateOrders all get distinct numbers.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderCreatedSchema, OrderStatusChangedSchema } from "../../../gen/orders/v1/order_events_pb.js";
import { rowsOf } from "../../../src/platform/db.js";
import { onRealPostgres } from "../../support/db.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

const create = async (customerId: string, productId: string, rid = requestId()) =>
  (await h.orders.createOrder({ customerId, requestId: rid, items: [{ productId, quantity: 1 }] })).order!;

async function eventsOf(orderId: string): Promise<{ type: string; payload: JsonValue }[]> {
  const rows = rowsOf<{ type: string; payload: string | JsonValue }>(
    await h.database.db.execute(sql`select event_type as type, payload from orders.outbox where aggregate_id = ${orderId}::uuid order by id`),
  );
  return rows.map((r) => ({ type: r.type, payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as JsonValue) : r.payload }));
}

describe("order numbers", () => {
  it("CreateOrder assigns a growing decimal number that every read returns and the events carry", async () => {
    const [p, customerId] = [await newProduct(h, 100), await newCustomer(h)];
    const first = await create(customerId, p);
    const second = await create(customerId, p);
    expect(first.number).toMatch(/^[1-9][0-9]{5,}$/);
    expect(BigInt(second.number)).toBeGreaterThan(BigInt(first.number));
    expect((await h.orders.getOrder({ orderId: first.id })).order!.number).toBe(first.number);
    const listed = (await h.orders.listOrders({ customerId, pageSize: 10 })).orders;
    expect(new Map(listed.map((o) => [o.id, o.number]))).toEqual(new Map([[first.id, first.number], [second.id, second.number]]));

    const [created, confirmed] = await eventsOf(first.id);
    expect(created.type).toBe("orders.v1.OrderCreated");
    expect(fromJson(OrderCreatedSchema, created.payload).order!.number).toBe(first.number);
    expect(confirmed.type).toBe("orders.v1.OrderStatusChanged");
    expect(fromJson(OrderStatusChangedSchema, confirmed.payload).order!.number).toBe(first.number);
  });

  it("a repeated CreateOrder answers the number of the order it stored first", async () => {
    const [p, customerId, rid] = [await newProduct(h, 10), await newCustomer(h), requestId()];
    const first = await create(customerId, p, rid);
    const again = await create(customerId, p, rid);
    expect(again.id).toBe(first.id);
    expect(again.number).toBe(first.number);
  });

  it.skipIf(!onRealPostgres)("concurrent CreateOrders get distinct numbers (real Postgres)", async () => {
    const [p, customerId] = [await newProduct(h, 1000), await newCustomer(h)];
    const orders = await Promise.all(Array.from({ length: 40 }, () => create(customerId, p)));
    const numbers = orders.map((o) => o.number);
    expect(new Set(numbers).size).toBe(40);
    const stored = rowsOf<{ n: number }>(
      await h.database.db.execute(sql`select count(distinct number)::int as n from orders.orders where customer_id = ${customerId}::uuid`),
    );
    expect(stored[0].n).toBe(40);
  });
});
