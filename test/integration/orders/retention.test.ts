/**
 * Retention on the app as main.ts builds it: idempotency records past
 * RETENTION_IDEMPOTENCY_HOURS are purged (younger ones kept), and what that
 * means for the order flow: a retry of CreateOrder with the same request_id
 * after the purge replays the existing order — never a second order, never a
 * second hold or sale — and a different payload is still
 * IDEMPOTENCY_KEY_REUSED. Reservations purged under orders (inventory's
 * retention) break nothing: a late release is settled, a PENDING order's
 * purged hold is held again under its next id and sold once. Counted in
 * /metrics; on Postgres only the leader of the orders retention lock purges.
 * Rows are made old by moving their timestamps back with SQL.
 */
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { ordersPurgeTargets } from "../../../src/orders/infra/retention.js";
import { createDatabase, rowsOf, type Database } from "../../../src/platform/db.js";
import { ADMIN, authHeaders } from "../../support/auth.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { startTestStack, testConfig } from "../../support/servers.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

const WINDOW_HOURS = 168;
const faults = createFaults();
let h: OrdersHarness;
beforeAll(async () => {
  const config = await testConfig();
  h = await createOrdersHarness({
    transformImpl: faults.transformImpl,
    config: { retention: { ...config.retention, idempotencyHours: WINDOW_HOURS, reservationsHours: WINDOW_HOURS, batchSize: 3 } },
  });
});
afterAll(() => h.close());
afterEach(() => faults.clear());

const db = () => h.database.db;
const count = async (query: ReturnType<typeof sql>) => Number(rowsOf<{ n: number }>(await db().execute(query))[0].n);

/** Moves an order's idempotency record `hours` into the past. */
const ageRecord = (orderId: string, hours = WINDOW_HOURS + 1) =>
  db().execute(sql`update orders.idempotency_keys set create_time = create_time - make_interval(hours => ${hours}) where order_id = ${orderId}::uuid`);
/** Moves every reservation of an order (all its attempts) `hours` into the past. */
const ageReservations = (orderId: string, hours = WINDOW_HOURS + 1) =>
  db().execute(sql`update inventory.reservations set update_time = update_time - make_interval(hours => ${hours}) where id like ${`order-${orderId}%`}`);
const recordsOf = (orderId: string) => count(sql`select count(*)::int as n from orders.idempotency_keys where order_id = ${orderId}::uuid`);
const reservationsOf = (orderId: string) => count(sql`select count(*)::int as n from inventory.reservations where id like ${`order-${orderId}%`}`);
const purgeAll = async () => ({ ...(await h.module.retention.purge()), ...(await h.stack.app.modules.inventory!.retention.purge()) });

const address = { recipientName: "Ada", line1: "1 Main St", line2: "", city: "Springfield", region: "", postalCode: "12345", countryCode: "US" };

async function placeOrder(quantity: number, stock = 10) {
  const [productId, customerId] = [await newProduct(h, stock), await newCustomer(h)];
  const req = {
    customerId,
    requestId: requestId(),
    items: [{ productId, quantity }],
    shippingAddress: address,
  };
  const order = (await h.orders.createOrder(req)).order!;
  expect(order.status).toBe(OrderStatus.CONFIRMED);
  return { order, productId, customerId, req };
}

describe("idempotency record retention", () => {
  it("purges records older than the window in bounded batches, keeps younger ones and every order", async () => {
    const placed = await Promise.all(Array.from({ length: 11 }, () => placeOrder(1)));
    const [young, ...old] = placed;
    for (const p of old) await ageRecord(p.order.id);
    await ageRecord(young.order.id, WINDOW_HOURS - 1); // inside the window
    // One statement deletes at most its limit (the oldest first)...
    const [statement] = ordersPurgeTargets(db(), { idempotencyHours: WINDOW_HOURS });
    expect(await statement.deleteBatch(new Date(Date.now() - WINDOW_HOURS * 3_600_000), 2)).toBe(2);
    // ...and a pass repeats it (three rows each here) until one comes back short.
    const before = h.module.retention.purged["orders.idempotency_keys"];
    expect(await h.module.retention.purge()).toEqual({ "orders.idempotency_keys": 8 });
    expect(h.module.retention.purged["orders.idempotency_keys"] - before).toBe(8);
    for (const p of old) expect(await recordsOf(p.order.id)).toBe(0);
    expect(await recordsOf(young.order.id)).toBe(1);
    for (const p of placed) expect((await h.orders.getOrder({ orderId: p.order.id })).order?.status).toBe(OrderStatus.CONFIRMED);
    expect(await h.module.retention.purge()).toEqual({ "orders.idempotency_keys": 0 });
  });

  it("answers a retry after the purge with the existing order: no second order, no second hold or sale", async () => {
    const { order, productId, customerId, req } = await placeOrder(2);
    await ageRecord(order.id);
    await purgeAll();
    expect(await recordsOf(order.id)).toBe(0);
    const retries = await Promise.all([1, 2, 3].map(() => h.orders.createOrder(req)));
    for (const r of retries) expect(r.order).toMatchObject({ id: order.id, status: OrderStatus.CONFIRMED, etag: order.etag });
    expect((await h.orders.listOrders({ customerId })).orders.map((o) => o.id)).toEqual([order.id]);
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
    expect(await reservationsOf(order.id)).toBe(1); // its committed one, never purged; no new attempt
  });

  it("still refuses the request_id with another payload after the purge (IDEMPOTENCY_KEY_REUSED)", async () => {
    const { order, productId, req } = await placeOrder(2);
    await ageRecord(order.id);
    await purgeAll();
    await expectFailure(h.orders.createOrder({ ...req, items: [{ productId, quantity: 3 }] }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
    await expectFailure(
      h.orders.createOrder({ ...req, shippingAddress: { ...address, line1: "2 Main St" } }),
      Code.InvalidArgument,
      "IDEMPOTENCY_KEY_REUSED",
    );
    await expectFailure(h.orders.createOrder({ ...req, shippingAddress: undefined }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
    expect(await stockOf(h, productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
    expect(await reservationsOf(order.id)).toBe(1);
  });

  it("replays a cancelled order after its record and its released reservation were purged, holding nothing", async () => {
    const { order, productId, req } = await placeOrder(4);
    await h.orders.cancelOrder({ orderId: order.id });
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    await ageRecord(order.id);
    await ageReservations(order.id);
    const purged = await purgeAll();
    expect(purged["inventory.reservations"]).toBeGreaterThanOrEqual(1);
    expect([await recordsOf(order.id), await reservationsOf(order.id)]).toEqual([0, 0]);
    const again = (await h.orders.createOrder(req)).order!;
    expect(again).toMatchObject({ id: order.id, status: OrderStatus.CANCELLED });
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    expect(await reservationsOf(order.id)).toBe(0); // the purged id was not taken again, nor a next one
  });

  it("keeps a deleted order's request refused (ORDER_DELETED) after the purge", async () => {
    const { order, productId, req } = await placeOrder(1);
    await h.orders.deleteOrder({ orderId: order.id });
    await ageRecord(order.id);
    await ageReservations(order.id);
    await purgeAll();
    await expectFailure(h.orders.createOrder(req), Code.AlreadyExists, "ORDER_DELETED");
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    expect(await reservationsOf(order.id)).toBe(0);
  });
});

describe("orders whose reservation was purged", () => {
  it("settles a late release of a purged reservation: it held nothing", async () => {
    const { order, productId } = await placeOrder(3);
    await h.orders.cancelOrder({ orderId: order.id });
    // The release reached inventory but its bookkeeping was lost (a crash), and the reservation is purged since.
    await db().execute(sql`update orders.orders set reservation_state = 'RELEASE_PENDING' where id = ${order.id}::uuid`);
    await ageReservations(order.id);
    await purgeAll();
    expect(await reservationsOf(order.id)).toBe(0);
    expect(await h.module.reconcile()).toBe(1);
    const state = rowsOf<{ s: string }>(await db().execute(sql`select reservation_state as s from orders.orders where id = ${order.id}::uuid`));
    expect(state[0].s).toBe("RELEASED");
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    expect(await h.module.reconcile()).toBe(0);
  });

  it("holds a PENDING order's stock again under its next id when its expired hold was purged, and sells it once", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 3 }] };
    faults.set("commitReservation", { kind: "unavailable" });
    await expectFailure(h.orders.createOrder(req), Code.Unavailable, "ORDER_NOT_CONFIRMED");
    const [order] = (await h.orders.listOrders({ customerId })).orders;
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    await ageReservations(order.id);
    await purgeAll();
    expect(await reservationsOf(order.id)).toBe(0);
    faults.clear();
    expect(await h.module.reconcile()).toBe(1);
    expect((await h.orders.getOrder({ orderId: order.id })).order?.status).toBe(OrderStatus.CONFIRMED);
    expect(await stockOf(h, productId)).toEqual({ onHand: 7, reserved: 0, available: 7 });
    const ids = rowsOf<{ id: string; status: string }>(
      await db().execute(sql`select id, status from inventory.reservations where id like ${`order-${order.id}%`}`),
    );
    expect(ids).toEqual([{ id: `order-${order.id}.1`, status: "COMMITTED" }]);
    expect((await h.orders.createOrder(req)).order).toMatchObject({ id: order.id, status: OrderStatus.CONFIRMED });
  });
});

describe("retention_rows_purged_total", () => {
  it("counts the rows purged per table in /metrics", async () => {
    const { order } = await placeOrder(1);
    await ageRecord(order.id);
    await purgeAll();
    const res = await fetch(`${h.stack.httpUrl}/metrics`, { headers: await authHeaders(ADMIN) });
    const text = await res.text();
    for (const [table, n] of Object.entries({ ...h.module.retention.purged, ...h.stack.app.modules.inventory!.retention.purged })) {
      expect(n).toBeGreaterThan(0);
      expect(text).toContain(`retention_rows_purged_total{table="${table}"} ${n}`);
    }
  });
});

describe.runIf(onRealPostgres)("retention with two instances", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });
  const handleTo = async (d: TestDatabase): Promise<Database> => {
    const handle = await createDatabase({ url: d.url, poolMax: 4 });
    cleanup.push(() => handle.close());
    return handle;
  };

  it("purges on the leader of its lock only, and on the next leader once it stops", async () => {
    const database = await createTestDatabase();
    cleanup.push(() => database.dispose());
    const base = await testConfig();
    // The second instance keeps records for an hour only: whatever it purges, the first would have kept.
    const stack = async (idempotencyHours: number) => {
      const config = { leaderRetryMs: 50, retention: { ...base.retention, idempotencyHours, intervalMs: 50 } };
      const s = await startTestStack({ database: (await handleTo(database)) as TestDatabase, config });
      cleanup.push(() => s.close());
      return s;
    };
    const one = await stack(WINDOW_HOURS);
    const two = await stack(1);
    for (const lock of ["ordersRetention", "inventoryRetention"] as const) {
      await vi.waitFor(() => expect([one, two].filter((s) => s.app.leaders[lock]?.isLeader)).toHaveLength(1), { timeout: 5000, interval: 20 });
    }
    expect(one.app.leaders.ordersRetention!.isLeader).toBe(true); // the first started leads
    const insert = (prefix: string, n: number, age: string) =>
      database.db.execute(sql`
        insert into orders.idempotency_keys (customer_id, request_id, payload_hash, order_id, create_time)
        select gen_random_uuid(), ${prefix} || i, 'h', gen_random_uuid(), now() - ${age}::interval from generate_series(1, ${n}) i`);
    const left = async (prefix: string) =>
      Number(rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from orders.idempotency_keys where request_id like ${`${prefix}%`}`))[0].n);
    await insert("hours-", 4, "2 hours");
    await insert("year-", 5, "1 year");
    await vi.waitFor(async () => expect(await left("year-")).toBe(0), { timeout: 5000, interval: 20 });
    await new Promise((r) => setTimeout(r, 500)); // ten of the follower's ticks
    expect(await left("hours-")).toBe(4);
    const purgedBy = () => [one, two].map((s) => s.app.modules.orders!.retention.purged["orders.idempotency_keys"]);
    expect(purgedBy()).toEqual([5, 0]);
    await one.close();
    await vi.waitFor(async () => expect(await left("hours-")).toBe(0), { timeout: 5000, interval: 20 });
    expect(purgedBy()).toEqual([5, 4]);
  });
});
