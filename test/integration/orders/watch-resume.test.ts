/**
 * WatchOrder resumed (after_version): every change after the client's last
 * version, from the outbox, then every live change — each exactly once, in
 * version order, however slowly the client reads; a resume point whose
 * changes are gone, or past the order's version, fails with its reason. The
 * app is the production one (harness.ts), the calls go through its wrapping.
 */
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus, type WatchOrderResponse } from "../../../gen/orders/v1/order_service_pb.js";
import { customer } from "../../support/auth.js";
import { fieldViolationsOf } from "../../support/rpc-errors.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";
import { untilNoWatches } from "./watch-support.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

async function placeOrder() {
  const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
  return (await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
}

/** The versions of a watch's first `n` messages; then it cancels the call (leaving the loop alone would not end the stream). */
async function firstVersions(orders: OrdersHarness["orders"], orderId: string, afterVersion: number | undefined, n: number) {
  const versions: number[] = [];
  const ac = new AbortController();
  try {
    for await (const res of orders.watchOrder({ orderId, afterVersion }, { signal: ac.signal })) {
      versions.push(res.version);
      if (versions.length === n) ac.abort();
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
  return versions;
}

/** The order's version now: the version of a plain watch's first message. */
const versionOf = async (orderId: string) => (await firstVersions(h.orders, orderId, undefined, 1))[0];

const ship = (orderId: string, trackingNumber: string) =>
  h.orders.updateShippingInfo({ orderId, shippingInfo: { carrier: "UPS", trackingNumber } });
const moveTo = (orderId: string, status: OrderStatus) => h.orders.updateOrderStatus({ orderId, status });

/** What a message says, in short. */
const seen = (r: WatchOrderResponse) => ({
  version: r.version,
  status: r.order ? OrderStatus[r.order.status] : undefined,
  tracking: r.order?.shippingInfo?.trackingNumber,
});

/** Runs the watch to its end; after the message of version v, awaits `at[v]` (a slow client: it reads nothing meanwhile). */
async function watchFrom(orderId: string, afterVersion: number | undefined, at: Record<number, () => Promise<unknown>> = {}) {
  const got: WatchOrderResponse[] = [];
  for await (const res of h.orders.watchOrder({ orderId, afterVersion })) {
    got.push(res);
    await at[res.version]?.();
  }
  return got;
}

/** Several changes back to back, then a pause long enough for the hub to have read them all. */
async function burst(...changes: (() => Promise<unknown>)[]) {
  for (const change of changes) await change();
  await new Promise((r) => setTimeout(r, 300));
}

describe("WatchOrder resumed with after_version", () => {
  it("sends every change after it, then every live change exactly once and in order, however slowly the client reads", async () => {
    const order = await placeOrder();
    const id = order.id;
    const v = await versionOf(id); // created, then confirmed
    await moveTo(id, OrderStatus.PROCESSING);
    await ship(id, "T1");
    await ship(id, "T2");
    expect(await versionOf(id)).toBe(v + 3);

    const got = await watchFrom(id, 1, {
      // caught up: four changes while the client reads nothing
      [v + 3]: () => burst(() => ship(id, "T3"), () => ship(id, "T4"), () => ship(id, "T5"), () => moveTo(id, OrderStatus.SHIPPED)),
      [v + 7]: () => moveTo(id, OrderStatus.DELIVERED),
    });

    const versions = got.map((r) => r.version);
    expect(versions).toEqual(Array.from({ length: v + 7 }, (_, i) => i + 2)); // 2 … v+8, none twice, none skipped
    expect(got.map(seen).slice(-8)).toEqual([
      { version: v + 1, status: "PROCESSING", tracking: undefined },
      { version: v + 2, status: "PROCESSING", tracking: "T1" },
      { version: v + 3, status: "PROCESSING", tracking: "T2" },
      { version: v + 4, status: "PROCESSING", tracking: "T3" },
      { version: v + 5, status: "PROCESSING", tracking: "T4" },
      { version: v + 6, status: "PROCESSING", tracking: "T5" },
      { version: v + 7, status: "SHIPPED", tracking: "T5" },
      { version: v + 8, status: "DELIVERED", tracking: "T5" },
    ]);
    for (const r of got) expect(r.order?.id).toBe(id);
    expect(new Set(got.map((r) => r.order!.etag)).size).toBe(got.length);
    await untilNoWatches(h.module);
  });

  it("control: without after_version the same slow client skips to the newest version", async () => {
    const order = await placeOrder();
    const id = order.id;
    const v = await versionOf(id);
    const got = await watchFrom(id, undefined, {
      [v]: () => burst(() => ship(id, "T1"), () => ship(id, "T2"), () => ship(id, "T3"), () => moveTo(id, OrderStatus.CANCELLED)),
    });
    const versions = got.map((r) => r.version);
    expect(versions[0]).toBe(v);
    expect(versions.at(-1)).toBe(v + 4);
    expect(versions.length).toBeLessThan(5); // skipped some
    expect(OrderStatus[got.at(-1)!.order!.status]).toBe("CANCELLED");
  });

  it("at the current version: a caught-up message (no order) at once, then only the later changes", async () => {
    const order = await placeOrder();
    const id = order.id;
    const v = await versionOf(id);
    const got = await watchFrom(id, v, {
      [v]: () => ship(id, "T1"),
      [v + 1]: () => h.orders.cancelOrder({ orderId: id }),
    });
    expect(got.map(seen)).toEqual([
      { version: v, status: undefined, tracking: undefined },
      { version: v + 1, status: "CONFIRMED", tracking: "T1" },
      { version: v + 2, status: "CANCELLED", tracking: "T1" },
    ]);
  });

  it("ends OK at a final status, and at a deletion without sending it, as without resuming", async () => {
    const done = await placeOrder();
    await h.orders.cancelOrder({ orderId: done.id });
    const v = await versionOf(done.id);
    expect((await watchFrom(done.id, 1)).map((r) => r.version).at(-1)).toBe(v); // …, CANCELLED, end
    expect((await watchFrom(done.id, v)).map(seen)).toEqual([{ version: v, status: undefined, tracking: undefined }]);

    const gone = await placeOrder();
    const w = await versionOf(gone.id);
    const got = await watchFrom(gone.id, w, { [w]: () => h.orders.deleteOrder({ orderId: gone.id }) });
    expect(got.map((r) => r.version)).toEqual([w]);
    await expectFailure(watchFrom(gone.id, w), Code.NotFound, "ORDER_NOT_FOUND");
  });

  it("fails FAILED_PRECONDITION RESUME_POINT_EXPIRED when the changes after it are gone; later resume points still work", async () => {
    const order = await placeOrder();
    const id = order.id;
    await ship(id, "T1");
    await ship(id, "T2");
    const v = await versionOf(id);
    // retention purged the first events (published long ago)
    await h.database.db.execute(sql`delete from orders.outbox where aggregate_id = ${id} and version <= 2`);
    const err = await expectFailure(watchFrom(id, 1), Code.FailedPrecondition, "RESUME_POINT_EXPIRED");
    expect(err.message).toContain("after version 1");
    await expectFailure(watchFrom(id, 0), Code.FailedPrecondition, "RESUME_POINT_EXPIRED");
    expect(await firstVersions(h.orders, id, 2, v - 2)).toEqual(Array.from({ length: v - 2 }, (_, i) => i + 3));
  });

  it("fails RESUME_POINT_EXPIRED for changes written before the events contract (no version)", async () => {
    const order = await placeOrder();
    const v = await versionOf(order.id);
    await h.database.db.execute(sql`update orders.outbox set version = null where aggregate_id = ${order.id}`);
    await expectFailure(watchFrom(order.id, 0), Code.FailedPrecondition, "RESUME_POINT_EXPIRED");
    await expectFailure(watchFrom(order.id, v - 1), Code.FailedPrecondition, "RESUME_POINT_EXPIRED");
  });

  it("fails INVALID_ARGUMENT RESUME_POINT_AHEAD past the order's version, INVALID_REQUEST below 0; another customer's order stays NOT_FOUND", async () => {
    const order = await placeOrder();
    const v = await versionOf(order.id);
    const ahead = await expectFailure(watchFrom(order.id, v + 1), Code.InvalidArgument, "RESUME_POINT_AHEAD");
    expect(fieldViolationsOf(ahead).map((f) => f.field)).toEqual(["after_version"]);
    await expectFailure(watchFrom(order.id, -1), Code.InvalidArgument, "INVALID_REQUEST");
    const stranger = h.as(customer(await newCustomer(h))).orders;
    for (const afterVersion of [0, v, v + 1]) {
      await expectFailure(
        (async () => {
          for await (const _ of stranger.watchOrder({ orderId: order.id, afterVersion }));
        })(),
        Code.NotFound,
        "ORDER_NOT_FOUND",
      );
    }
    expect(await firstVersions(h.as(customer(order.customerId)).orders, order.id, v - 1, 1)).toEqual([v]);
    await untilNoWatches(h.module);
  });
});
