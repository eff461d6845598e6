/**
 * SearchOrders through the app as main.ts builds it (real customers and
 * inventory modules, one database): every filter alone and combined, order
 * numbers exact and by prefix (ranges of every length), the customer email in
 * any letter case, keyset pages in both directions while orders are created,
 * the token bound to every filter, and who may search. Expected answers are
 * computed from the orders as GetOrder reads them.
 */
import { sql } from "drizzle-orm";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  FulfilmentStatus,
  OrderStatus,
  PaymentEventKind,
  PaymentStatus,
  ShipmentStatus,
  type Order,
  type SearchOrdersRequestSchema,
} from "../../../gen/orders/v1/order_service_pb.js";
import type { ListCursor, SearchQuery } from "../../../src/orders/domain/ports.js";
import { searchOrders } from "../../../src/orders/infra/order-search.js";
import { customer, STAFF } from "../../support/auth.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

type SearchRequest = MessageInitShape<typeof SearchOrdersRequestSchema>;
/** The number filters (a oneof). */
const byNumber = (value: string) => ({ numberFilter: { case: "number" as const, value } });
const byPrefix = (value: string) => ({ numberFilter: { case: "numberPrefix" as const, value } });

const faults = createFaults();
let h: OrdersHarness;
let productId: string;
const run = Date.now().toString(36);

interface Customer {
  readonly id: string;
  readonly email: string;
}

const newCustomer = async (name: string): Promise<Customer> => {
  const email = `${name}.Search-${run}@Example.com`;
  const { customer: c } = await h.customers.createCustomer({ email, displayName: name });
  return { id: c!.id, email };
};

const place = async (c: Customer) =>
  (await h.orders.createOrder({ customerId: c.id, requestId: requestId(), items: [{ productId, quantity: 2 }] })).order!;

async function tag(orderId: string, tags: string[]) {
  await h.orders.updateOrderTags({ orderId, addTags: tags });
  tagsOf.set(orderId, tags);
}
const tagsOf = new Map<string, string[]>();

async function pay(orderId: string, kind: PaymentEventKind, amount: bigint) {
  await h.orders.reportPayment({ orderId, providerEventId: `evt-${requestId()}`, kind, amount: { currencyCode: "EUR", amountMinor: amount } });
}

async function ship(orderId: string, quantity: number) {
  const info = { carrier: "UPS", trackingNumber: "1Z" };
  const { shipment } = await h.orders.createShipment({ orderId, requestId: requestId(), lines: [{ lineNumber: 1, quantity }], shippingInfo: info });
  await h.orders.updateShipmentStatus({ orderId, shipmentId: shipment!.id, status: ShipmentStatus.SHIPPED });
}

let ada: Customer;
let bob: Customer;
let cat: Customer;
/** Every order of the first three customers, as GetOrder reads them after the setup. */
let orders: Order[];
let deleted: Order;

beforeAll(async () => {
  h = await createOrdersHarness({ transformImpl: faults.transformImpl });
  productId = await newProduct(h, 100_000);
  [ada, bob, cat] = [await newCustomer("Ada"), await newCustomer("Bob"), await newCustomer("Cat")];
  const placed: Record<string, Order[]> = { ada: [], bob: [], cat: [] };
  // Interleaved, so no customer's orders are one run of create times.
  for (let i = 0; i < 6; i++) {
    placed.ada.push(await place(ada));
    if (i < 5) placed.bob.push(await place(bob));
    if (i < 3) placed.cat.push(await place(cat));
  }
  const total = placed.ada[0].total!.amountMinor;
  await pay(placed.ada[0].id, PaymentEventKind.AUTHORIZED, total);
  await pay(placed.ada[1].id, PaymentEventKind.CAPTURED, total);
  await pay(placed.bob[0].id, PaymentEventKind.CAPTURED, total);
  await ship(placed.ada[1].id, 2); // SHIPPED (and the order with it)
  await ship(placed.bob[0].id, 1); // PARTIALLY_SHIPPED
  await h.orders.cancelOrder({ orderId: placed.cat[0].id });
  await h.orders.cancelOrder({ orderId: placed.ada[5].id });
  await tag(placed.ada[2].id, ["gift"]);
  await tag(placed.bob[1].id, ["gift", "vip"]);
  await tag(placed.cat[1].id, ["vip"]);
  deleted = placed.bob[4];
  await tag(deleted.id, ["gift"]);
  await h.orders.deleteOrder({ orderId: deleted.id });
  const live = [...placed.ada, ...placed.bob.slice(0, 4), ...placed.cat];
  orders = await Promise.all(live.map(async (o) => (await h.orders.getOrder({ orderId: o.id })).order!));
});
afterAll(() => h.close());
afterEach(() => faults.clear());

const key = (o: Order) => `${timestampDate(o.createTime!).toISOString()}|${o.id}`;
/** Ids newest first (the default order), or oldest first. */
const idsOf = (os: Order[], desc = true) => [...os].sort((a, b) => (key(a) < key(b) ? -1 : 1) * (desc ? -1 : 1)).map((o) => o.id);

/** Every page of `req` (3 orders a page unless it says otherwise); `onPage` runs after each. */
async function walk(req: SearchRequest, onPage?: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let pageToken = "";
  do {
    const page = await h.orders.searchOrders({ pageSize: 3, ...req, pageToken });
    ids.push(...page.orders.map((o) => o.id));
    pageToken = page.nextPageToken;
    await onPage?.();
  } while (pageToken);
  return ids;
}

/** The search finds exactly the orders (of the first three customers) `pred` holds for, newest first. */
async function expectFinds(req: SearchRequest, pred: (o: Order) => boolean) {
  const ours = new Set(orders.map((o) => o.id));
  const found = (await walk(req)).filter((id) => ours.has(id) || id === deleted.id);
  expect(found).toEqual(idsOf(orders.filter(pred)));
}

describe("SearchOrders filters", () => {
  it("by customer id and by customer email in any letter case", async () => {
    await expectFinds({ customerId: ada.id }, (o) => o.customerId === ada.id);
    for (const email of [ada.email, ada.email.toLowerCase(), ada.email.toUpperCase()]) {
      expect(await walk({ customerEmail: email })).toEqual(idsOf(orders.filter((o) => o.customerId === ada.id)));
    }
    // Both given: they must name the same customer.
    await expectFinds({ customerId: ada.id, customerEmail: ada.email.toLowerCase() }, (o) => o.customerId === ada.id);
    expect(await walk({ customerId: bob.id, customerEmail: ada.email })).toEqual([]);
  });

  it("an email no customer has finds nothing, without an error", async () => {
    const page = await h.orders.searchOrders({ customerEmail: `nobody-${run}@example.com` });
    expect(page).toMatchObject({ orders: [], nextPageToken: "" });
  });

  it("by order, payment and fulfilment status, one or several", async () => {
    await expectFinds({ statuses: [OrderStatus.CANCELLED] }, (o) => o.status === OrderStatus.CANCELLED);
    await expectFinds({ statuses: [OrderStatus.SHIPPED, OrderStatus.CANCELLED] }, (o) => [OrderStatus.SHIPPED, OrderStatus.CANCELLED].includes(o.status));
    await expectFinds({ paymentStatuses: [PaymentStatus.CAPTURED] }, (o) => o.payment!.status === PaymentStatus.CAPTURED);
    await expectFinds({ paymentStatuses: [PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED] }, (o) => o.payment!.status !== PaymentStatus.PENDING);
    await expectFinds({ paymentStatuses: [PaymentStatus.PENDING] }, (o) => o.payment!.status === PaymentStatus.PENDING);
    await expectFinds({ fulfilmentStatuses: [FulfilmentStatus.PARTIALLY_SHIPPED] }, (o) => o.fulfilmentStatus === FulfilmentStatus.PARTIALLY_SHIPPED);
    await expectFinds({ fulfilmentStatuses: [FulfilmentStatus.SHIPPED, FulfilmentStatus.PARTIALLY_SHIPPED] }, (o) => o.fulfilmentStatus !== FulfilmentStatus.UNFULFILLED);
    await expectFinds({ fulfilmentStatuses: [FulfilmentStatus.DELIVERED] }, () => false);
    // The setup made one of each, so the filters above were not vacuous.
    expect(orders.filter((o) => o.fulfilmentStatus === FulfilmentStatus.SHIPPED)).toHaveLength(1);
    expect(orders.filter((o) => o.payment!.status === PaymentStatus.AUTHORIZED)).toHaveLength(1);
  });

  it("by tag; a deleted order is never found", async () => {
    const tagged = (t: string) => (o: Order) => (tagsOf.get(o.id) ?? []).includes(t);
    expect(orders.filter((o) => o.tags.length > 0).map((o) => [o.id, o.tags])).toEqual([...tagsOf].filter(([id]) => id !== deleted.id));
    await expectFinds({ tag: "gift" }, tagged("gift"));
    await expectFinds({ tag: "vip" }, tagged("vip"));
    await expectFinds({ tag: "nothing-has-it" }, () => false);
    expect((await h.orders.searchOrders(byNumber(deleted.number))).orders).toEqual([]);
  });

  it("by create time: from start (inclusive) to end (exclusive)", async () => {
    const asc = [...orders].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const [start, end] = [asc[3].createTime!, asc[9].createTime!];
    const inRange = (o: Order) => timestampDate(o.createTime!) >= timestampDate(start) && timestampDate(o.createTime!) < timestampDate(end);
    await expectFinds({ createTimeStart: start, createTimeEnd: end }, inRange);
    await expectFinds({ createTimeStart: timestampFromDate(new Date(Date.now() + 3_600_000)) }, () => false);
  });

  it("every filter that is set must hold", async () => {
    await expectFinds({ customerEmail: ada.email, paymentStatuses: [PaymentStatus.CAPTURED], fulfilmentStatuses: [FulfilmentStatus.SHIPPED] }, (o) => o.id === orders[1].id);
    await expectFinds({ customerId: bob.id, tag: "gift" }, (o) => o.customerId === bob.id && (tagsOf.get(o.id) ?? []).includes("gift"));
    await expectFinds({ customerId: cat.id, tag: "gift" }, () => false);
    await expectFinds({ statuses: [OrderStatus.CONFIRMED], paymentStatuses: [PaymentStatus.PENDING], customerId: cat.id }, (o) => o.customerId === cat.id && o.status === OrderStatus.CONFIRMED);
    const first = orders[0];
    await expectFinds({ ...byNumber(first.number), customerId: first.customerId }, (o) => o.id === first.id);
    await expectFinds({ ...byNumber(first.number), customerId: bob.id }, () => false);
    await expectFinds({ ...byPrefix(first.number.slice(0, 3)), statuses: [OrderStatus.CANCELLED] }, (o) => o.status === OrderStatus.CANCELLED && o.number.startsWith(first.number.slice(0, 3)));
  });
});

describe("SearchOrders by number", () => {
  it("finds one order by its exact number", async () => {
    for (const o of orders) {
      const page = await h.orders.searchOrders(byNumber(o.number));
      expect(page.orders.map((x) => x.id)).toEqual([o.id]);
      expect(page.nextPageToken).toBe("");
    }
    expect((await h.orders.searchOrders(byNumber("999999999999999998"))).orders).toEqual([]);
  });

  describe("by prefix, whatever the numbers' lengths", () => {
    // Numbers of every length (set in the column; the sequence is far above them, but for the longest).
    const NUMBERS = ["4", "42", "420", "4200", "42999", "4300", "142", "4299999", "999999999999999999", "99999999999999999"];
    const idOf = new Map<string, string>();

    beforeAll(async () => {
      const dan = await newCustomer("Dan");
      for (const n of NUMBERS) {
        const o = await place(dan);
        await h.database.db.execute(sql`update orders.orders set number = ${n}::bigint where id = ${o.id}::uuid`);
        idOf.set(n, o.id);
      }
    });

    /** Every number of this block's orders the prefix finds. */
    async function numbersFound(prefix: string) {
      const ids = new Set(await walk({ ...byPrefix(prefix), pageSize: 500 }));
      return NUMBERS.filter((n) => ids.has(idOf.get(n)!)).sort();
    }

    it.each([
      ["42", ["42", "420", "4200", "42999", "4299999"]],
      ["4", ["4", "42", "420", "4200", "42999", "4300", "4299999"]],
      ["429", ["42999", "4299999"]],
      ["4300", ["4300"]],
      ["43001", []],
      ["14", ["142"]],
      ["142999", []],
      ["9999999999999999", ["999999999999999999", "99999999999999999"]],
      ["999999999999999999", ["999999999999999999"]],
    ])("prefix %s", async (prefix, expected) => {
      expect(await numbersFound(prefix)).toEqual([...expected].sort());
    });

    it("agrees with the numbers' digits for the sequence's own numbers", async () => {
      const first = orders[0].number; // six digits, e.g. 100001
      for (const prefix of [first.slice(0, 1), first.slice(0, 4), first.slice(0, 5), first, `${first}0`]) {
        const ours = new Set(orders.map((o) => o.id));
        const found = (await walk({ ...byPrefix(prefix), pageSize: 500 })).filter((id) => ours.has(id));
        expect(found, prefix).toEqual(idsOf(orders.filter((o) => o.number.startsWith(prefix))));
      }
    });
  });
});

describe("SearchOrders pages", () => {
  it("walks keyset pages in both directions with neither duplicates nor skips while orders are created", async () => {
    const eve = await newCustomer("Eve");
    const before: Order[] = [];
    for (let i = 0; i < 10; i++) before.push(await place(eve));
    for (const orderBy of ["create_time desc", "create_time asc"]) {
      // New orders match the filter too: the walk must still see each earlier order exactly once.
      const req = { customerEmail: eve.email.toUpperCase(), paymentStatuses: [PaymentStatus.PENDING], orderBy };
      const seen = await walk(req, async () => {
        await Promise.all([place(eve), place(eve)]);
      });
      expect(new Set(seen).size).toBe(seen.length);
      const earlier = new Set(before.map((o) => o.id));
      expect(seen.filter((id) => earlier.has(id))).toEqual(idsOf(before, orderBy === "create_time desc"));
    }
  });

  it("a token used with any filter changed → INVALID_ARGUMENT INVALID_PAGE_TOKEN", async () => {
    const { nextPageToken } = await h.orders.searchOrders({ tag: "gift", pageSize: 1 });
    expect(nextPageToken).not.toBe("");
    const changed: SearchRequest[] = [
      { tag: "vip" },
      {},
      { tag: "gift", orderBy: "create_time asc" },
      { tag: "gift", customerId: ada.id },
      { tag: "gift", customerEmail: ada.email },
      { tag: "gift", statuses: [OrderStatus.CONFIRMED] },
      { tag: "gift", paymentStatuses: [PaymentStatus.PENDING] },
      { tag: "gift", fulfilmentStatuses: [FulfilmentStatus.UNFULFILLED] },
      { tag: "gift", ...byPrefix("1") },
      { tag: "gift", createTimeStart: timestampFromDate(new Date(0)) },
    ];
    for (const c of changed) {
      await expectFailure(h.orders.searchOrders({ ...c, pageToken: nextPageToken }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
    }
    // The same number as exact and as prefix are two searches.
    const prefixed = await h.orders.searchOrders({ ...byPrefix("1"), pageSize: 1 });
    await expectFailure(h.orders.searchOrders({ ...byNumber("1"), pageToken: prefixed.nextPageToken }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
    // The email's letter case, the statuses' order and the page size are not part of the search.
    const byEmail = await h.orders.searchOrders({ customerEmail: ada.email, paymentStatuses: [PaymentStatus.PENDING, PaymentStatus.CAPTURED], pageSize: 1 });
    expect(byEmail.nextPageToken).not.toBe("");
    const next = await h.orders.searchOrders({ customerEmail: ada.email.toLowerCase(), paymentStatuses: [PaymentStatus.CAPTURED, PaymentStatus.PENDING], pageSize: 10, pageToken: byEmail.nextPageToken });
    expect(next.orders.length).toBeGreaterThan(0);
    await expectFailure(h.orders.searchOrders({ pageToken: "not-a-token" }), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
  });

  it("defaults the page size to 50", async () => {
    const fay = await newCustomer("Fay");
    while ((await walk({ pageSize: 500 })).length <= 50) await place(fay);
    const page = await h.orders.searchOrders({});
    expect(page.orders).toHaveLength(50);
    expect(page.nextPageToken).not.toBe("");
  });
});

describe("SearchOrders access and failures", () => {
  it("is for staff, admins and services: a customer is PERMISSION_DENIED ROLE_NOT_PERMITTED", async () => {
    const staff = await h.as(STAFF).orders.searchOrders({ customerId: ada.id });
    expect(staff.orders.length).toBeGreaterThan(0);
    await expectFailure(h.as(customer(ada.id)).orders.searchOrders({ customerId: ada.id }), Code.PermissionDenied, "ROLE_NOT_PERMITTED");
  });

  it("CustomerService down: UNAVAILABLE CUSTOMERS_UNAVAILABLE for an email, other searches unaffected", async () => {
    faults.set("listCustomers", { kind: "unavailable" });
    await expectFailure(h.orders.searchOrders({ customerEmail: ada.email }), Code.Unavailable, "CUSTOMERS_UNAVAILABLE");
    expect((await h.orders.searchOrders({ customerId: ada.id })).orders.length).toBeGreaterThan(0);
  });

  it("rejects malformed numbers, emails and tags: INVALID_ARGUMENT INVALID_REQUEST", async () => {
    for (const bad of [byNumber("0123"), byPrefix("12a"), byNumber("1234567890123456789"), { customerEmail: "not-an-email" }, { tag: "Gift" }]) {
      await expectFailure(h.orders.searchOrders(bad), Code.InvalidArgument, "INVALID_REQUEST");
    }
  });
});

describe("a tag or number prefix search in two steps (the newest orders, then the filter's index)", () => {
  const ANY: SearchQuery = {
    customerId: undefined,
    statuses: [],
    createTimeStart: undefined,
    createTimeEnd: undefined,
    descending: true,
    number: undefined,
    paymentStatuses: [],
    fulfilmentStatuses: [],
    tag: undefined,
  };

  /** Every page of `q` from the repository's query with a window of `window` orders (the service's is 1000). */
  async function pages(q: SearchQuery, window: number, pageSize: number): Promise<string[]> {
    const ids: string[] = [];
    let after: ListCursor | undefined;
    for (;;) {
      const rows = await searchOrders(h.database.db, q, after, pageSize + 1, window);
      const page = rows.slice(0, pageSize);
      ids.push(...page.map((o) => o.id));
      if (rows.length <= pageSize) return ids;
      after = { createTimeMs: page.at(-1)!.createTime.getTime(), id: page.at(-1)!.id };
    }
  }

  it("finds what one step over every order finds, in the same order, whatever the window", async () => {
    const first = orders[0].number;
    const queries: SearchQuery[] = [
      { ...ANY, tag: "gift" },
      { ...ANY, tag: "vip", descending: false },
      { ...ANY, tag: "nothing-has-it" },
      { ...ANY, tag: "gift", customerId: bob.id },
      { ...ANY, tag: "gift", paymentStatuses: ["PENDING"] },
      { ...ANY, number: { prefix: first.slice(0, 4) } },
      { ...ANY, number: { prefix: first.slice(0, 5) }, descending: false },
      { ...ANY, number: { prefix: "4" } },
      { ...ANY, number: { prefix: first.slice(0, 4) }, statuses: ["CANCELLED"] },
      { ...ANY, number: { prefix: first.slice(0, 4) }, tag: "vip", createTimeStart: timestampDate(orders[2].createTime!) },
    ];
    for (const q of queries) {
      const all = await pages(q, Number.MAX_SAFE_INTEGER, 1000); // one step: the window holds every order
      expect(all.length, JSON.stringify(q)).toBeLessThan(1000);
      for (const [window, pageSize] of [[1, 2], [2, 3], [5, 1], [3, 50]]) {
        expect(await pages(q, window, pageSize), `${JSON.stringify(q)} window ${window}, pages of ${pageSize}`).toEqual(all);
      }
    }
    // Not vacuous: these find orders both in and past a small window.
    expect(await pages({ ...ANY, tag: "gift" }, Number.MAX_SAFE_INTEGER, 1000)).toHaveLength(2);
    expect((await pages({ ...ANY, number: { prefix: first.slice(0, 4) } }, Number.MAX_SAFE_INTEGER, 1000)).length).toBeGreaterThan(20);
  });
});
