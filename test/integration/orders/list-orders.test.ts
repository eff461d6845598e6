import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { OrderStatus, type ListOrdersRequestSchema, type Order } from "../../../gen/orders/v1/order_service_pb.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
let productId: string;
let customerId: string;
let placed: Order[];

const place = async (customer = customerId) =>
  (await h.orders.createOrder({ customerId: customer, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;

beforeAll(async () => {
  h = await createOrdersHarness();
  productId = await newProduct(h, 10_000);
  customerId = await newCustomer(h);
  placed = [];
  for (let i = 0; i < 12; i++) placed.push(await place());
  await place(await newCustomer(h)); // someone else's
  for (const o of placed.slice(0, 4)) await h.orders.cancelOrder({ orderId: o.id });
});
afterAll(() => h.close());

const key = (o: Order) => `${o.createTime!.seconds}.${String(o.createTime!.nanos).padStart(9, "0")}|${o.id}`;
const sortedIds = (orders: Order[], desc: boolean) =>
  [...orders].sort((a, b) => (key(a) < key(b) ? -1 : 1) * (desc ? -1 : 1)).map((o) => o.id);

async function walk(req: MessageInitShape<typeof ListOrdersRequestSchema>, onPage?: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let pageToken = "";
  do {
    const page = await h.orders.listOrders({ ...req, pageToken });
    ids.push(...page.orders.map((o) => o.id));
    pageToken = page.nextPageToken;
    await onPage?.();
  } while (pageToken);
  return ids;
}

describe("ListOrders", () => {
  it("walks a customer's orders newest first by default, and oldest first on request, in keyset pages", async () => {
    expect(await walk({ customerId, pageSize: 5 })).toEqual(sortedIds(placed, true));
    expect(await walk({ customerId, pageSize: 3, orderBy: "create_time asc" })).toEqual(sortedIds(placed, false));
    const first = await h.orders.listOrders({ customerId, pageSize: 12 });
    expect(first.orders).toHaveLength(12);
    expect(first.nextPageToken).toBe("");
  });

  it("filters by status and create-time range", async () => {
    const cancelled = await walk({ customerId, pageSize: 2, statuses: [OrderStatus.CANCELLED] });
    expect(cancelled.sort()).toEqual(placed.slice(0, 4).map((o) => o.id).sort());
    const both = await walk({ customerId, statuses: [OrderStatus.CONFIRMED, OrderStatus.CANCELLED] });
    expect(both).toHaveLength(12);
    const asc = sortedIds(placed, false);
    const byId = new Map(placed.map((o) => [o.id, o]));
    const start = byId.get(asc[3])!.createTime!;
    const end = byId.get(asc[8])!.createTime!;
    const inRange = await walk({ customerId, createTimeStart: start, createTimeEnd: end, pageSize: 2 });
    const expected = placed.filter((o) => key(o) >= key(byId.get(asc[3])!) && o.createTime!.seconds * 1_000_000_000n + BigInt(o.createTime!.nanos) < end.seconds * 1_000_000_000n + BigInt(end.nanos));
    expect(inRange.sort()).toEqual(expected.map((o) => o.id).sort());
    const future = await h.orders.listOrders({ createTimeStart: timestampFromDate(new Date(Date.now() + 3_600_000)) });
    expect(future.orders).toEqual([]);
  });

  it("binds the token to the filter and order", async () => {
    const page = await h.orders.listOrders({ customerId, pageSize: 2 });
    await expectFailure(
      h.orders.listOrders({ customerId, pageSize: 2, pageToken: page.nextPageToken, orderBy: "create_time asc" }),
      Code.InvalidArgument,
      "INVALID_PAGE_TOKEN",
    );
    await expectFailure(
      h.orders.listOrders({ pageSize: 2, pageToken: page.nextPageToken }),
      Code.InvalidArgument,
      "INVALID_PAGE_TOKEN",
    );
    await expectFailure(h.orders.listOrders({ pageToken: "not-a-token" }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
    const samePage = await h.orders.listOrders({ customerId, pageSize: 7, pageToken: page.nextPageToken });
    expect(samePage.orders.map((o) => o.id)).toEqual(sortedIds(placed, true).slice(2, 9));
  });

  it("defaults the page size to 50, lowers big ones to 500 and rejects negative ones", async () => {
    const other = await newCustomer(h);
    for (let i = 0; i < 52; i++) await place(other);
    const page = await h.orders.listOrders({ customerId: other });
    expect(page.orders).toHaveLength(50);
    expect(page.nextPageToken).not.toBe("");
    expect((await h.orders.listOrders({ customerId: other, pageSize: 100_000 })).orders).toHaveLength(52);
    await expectFailure(h.orders.listOrders({ pageSize: -1 }), Code.InvalidArgument, "INVALID_REQUEST");
  });

  it("neither skips nor repeats existing orders while new ones are inserted during the walk", async () => {
    const walker = await newCustomer(h);
    const before: Order[] = [];
    for (let i = 0; i < 15; i++) before.push(await place(walker));
    for (const orderBy of ["create_time desc", "create_time asc"]) {
      const seen = await walk({ customerId: walker, pageSize: 4, orderBy }, async () => {
        await Promise.all([place(walker), place(walker)]);
      });
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => before.some((o) => o.id === id)).sort()).toEqual(before.map((o) => o.id).sort());
    }
  });
});
