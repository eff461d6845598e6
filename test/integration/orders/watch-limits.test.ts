/**
 * WatchOrder's limits: caps per principal and in total (RESOURCE_EXHAUSTED
 * WATCH_LIMIT_REACHED with a retry hint), slots freed on every way a stream
 * ends, the maximum lifetime (UNAVAILABLE WATCH_LIFETIME_REACHED with a retry
 * hint), and deadlines: the caller's ends a stream DEADLINE_EXCEEDED,
 * DEFAULT_DEADLINE_MS does not.
 */
import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { customer } from "../../support/auth.js";
import { errorInfoOf, reasonOf } from "../../support/rpc-errors.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { retryDelayMsOf, startWatch, untilNoWatches, untilSeen } from "./watch-support.js";

async function placeOrder(h: OrdersHarness) {
  const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
  const order = (await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
  return { order, as: h.as(customer(customerId)).orders, owner: `customer:${customerId}` };
}

/** How the stream ended, which must be an error: code, reason, retry hint, which limit. */
const failure = async (w: { ended: Promise<ConnectError | undefined> }) => {
  const err = await w.ended;
  if (!err) throw new Error("the stream should have failed");
  return { code: Code[err.code], reason: reasonOf(err), retryMs: retryDelayMsOf(err), limit: errorInfoOf(err)?.metadata.limit };
};

const untilWatches = (h: OrdersHarness, n: number) =>
  vi.waitFor(() => expect(h.module.watches.stats().watches).toBe(n), { timeout: 15_000, interval: 20 });

describe("WatchOrder caps", () => {
  let h: OrdersHarness;
  beforeAll(async () => {
    h = await createOrdersHarness({ config: { watchMaxPerPrincipal: 3, watchMaxTotal: 5 } });
  });
  afterAll(() => h?.close());

  it("caps watches per principal and in total, with a retry hint; a cancelled watch frees its slot", async () => {
    const [a, b, c] = [await placeOrder(h), await placeOrder(h), await placeOrder(h)];
    const ofA = [1, 2, 3].map(() => startWatch(a.as, a.order.id));
    await untilSeen(ofA, 1);
    const overA = await failure(startWatch(a.as, a.order.id));
    expect(overA).toMatchObject({ code: "ResourceExhausted", reason: "WATCH_LIMIT_REACHED", limit: "per_principal" });
    expect(overA.retryMs).toBeGreaterThan(0);

    const ofB = [1, 2].map(() => startWatch(b.as, b.order.id));
    await untilSeen(ofB, 1);
    expect(h.module.watches.stats()).toMatchObject({ watches: 5, orders: 2 });
    expect(h.module.watches.stats().of(a.owner)).toBe(3);
    const overTotal = await failure(startWatch(c.as, c.order.id));
    expect(overTotal).toMatchObject({ code: "ResourceExhausted", reason: "WATCH_LIMIT_REACHED", limit: "total" });
    expect(overTotal.retryMs).toBeGreaterThan(0);

    ofA[0].cancel();
    expect((await ofA[0].ended)?.code).toBe(Code.Canceled);
    await untilWatches(h, 4);
    const again = startWatch(a.as, a.order.id);
    await untilSeen([again], 1);
    expect(h.module.watches.stats().of(a.owner)).toBe(3);

    for (const w of [...ofA, ...ofB, again]) w.cancel();
    await untilNoWatches(h.module);
    expect(h.module.watches.stats().of(a.owner)).toBe(0);
  });

  it("frees the slot however a stream ends: NOT_FOUND, caller's deadline, final order, deleted order", async () => {
    const [a, b] = [await placeOrder(h), await placeOrder(h)];
    expect(await failure(startWatch(a.as, b.order.id))).toMatchObject({ code: "NotFound", reason: "ORDER_NOT_FOUND" });
    await untilNoWatches(h.module);

    const timed = startWatch(a.as, a.order.id, 300);
    expect((await timed.ended)?.code).toBe(Code.DeadlineExceeded);
    expect(timed.seen).toHaveLength(1);
    await untilNoWatches(h.module);

    const final = startWatch(a.as, a.order.id);
    await untilSeen([final], 1);
    await h.orders.cancelOrder({ orderId: a.order.id });
    expect(await final.ended).toBeUndefined();
    expect(final.seen.map((o) => o.status)).toEqual([OrderStatus.CONFIRMED, OrderStatus.CANCELLED]);
    await untilNoWatches(h.module);

    const deleted = startWatch(b.as, b.order.id);
    await untilSeen([deleted], 1);
    await h.orders.deleteOrder({ orderId: b.order.id });
    expect(await deleted.ended).toBeUndefined();
    await untilNoWatches(h.module);
  });
});

describe("WatchOrder lifetime and deadlines", () => {
  const DEFAULT_DEADLINE_MS = 800;
  const LIFETIME_MS = 3000;
  let h: OrdersHarness;
  beforeAll(async () => {
    h = await createOrdersHarness({ defaultDeadlineMs: DEFAULT_DEADLINE_MS, config: { watchMaxLifetimeMs: LIFETIME_MS } });
  });
  afterAll(() => h?.close());

  it("outlives DEFAULT_DEADLINE_MS without a caller deadline, then ends UNAVAILABLE WATCH_LIFETIME_REACHED with a retry hint", async () => {
    const a = await placeOrder(h);
    const w = startWatch(a.as, a.order.id);
    await untilSeen([w], 1);
    await new Promise((r) => setTimeout(r, 2 * DEFAULT_DEADLINE_MS)); // past the default deadline, on purpose
    await h.orders.updateOrderStatus({ orderId: a.order.id, status: OrderStatus.PROCESSING });
    await untilSeen([w], 2);
    const end = await failure(w);
    expect(end).toMatchObject({ code: "Unavailable", reason: "WATCH_LIFETIME_REACHED" });
    expect(end.retryMs).toBeDefined();
    expect(w.seen.map((o) => o.status)).toEqual([OrderStatus.CONFIRMED, OrderStatus.PROCESSING]);
    await untilNoWatches(h.module);
  });

  it("a caller deadline longer than the lifetime: the lifetime ends it; a shorter one ends it DEADLINE_EXCEEDED", async () => {
    const a = await placeOrder(h);
    const long = startWatch(a.as, a.order.id, 10 * LIFETIME_MS);
    const short = startWatch(a.as, a.order.id, LIFETIME_MS / 3);
    expect((await short.ended)?.code).toBe(Code.DeadlineExceeded);
    expect(await failure(long)).toMatchObject({ code: "Unavailable", reason: "WATCH_LIFETIME_REACHED" });
    await untilNoWatches(h.module);
  });
});
