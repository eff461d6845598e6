/**
 * One hot row must not take the service down (Postgres only: on PGlite no
 * other session can hold a lock). Another session locks an order's row; 12
 * writers call UpdateShippingInfo on it over gRPC, more than the pool's
 * transaction share (8 of DB_POOL_MAX 10). While they are all still blocked
 * — the lock is held the whole time — an unrelated ListCustomers (gRPC and
 * Connect), /readyz, grpc.health Check and the readiness ping all answer,
 * and SERVING. Then every writer fails with DEADLINE_EXCEEDED (its lock wait
 * ended by lock_timeout) or UNAVAILABLE DB_POOL_EXHAUSTED (no connection
 * within DB_POOL_WAIT_MS), never INTERNAL, and none of them committed.
 * And readiness holds even when every pooled connection is stuck (here: a
 * statement blocked on the lock on each): it pings over its own connection.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { permittedPrincipal } from "../../support/auth.js";
import { clientsOver } from "../../support/clients.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { reasonOf } from "../../support/rpc-errors.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "../orders/harness.js";
import { createOutsider, until, type Outsider } from "./row-lock.js";

const WRITERS = 12;
const POOL = { poolMax: 10, poolWaitMs: 4_000 };
const WRITER_DEADLINE_MS = 10_000;

describe.skipIf(!onRealPostgres)("a hot row (Postgres)", () => {
  let database: TestDatabase;
  let h: OrdersHarness;
  let outsider: Outsider;

  beforeAll(async () => {
    database = await createTestDatabase(POOL);
    h = await createOrdersHarness({ database });
    outsider = createOutsider(database.url!);
  });

  afterAll(async () => {
    await outsider?.close();
    await h?.close();
    await database?.dispose();
  });

  it("leaves reads and readiness answering while writers wait on it; the writers fail typed and commit nothing", { timeout: 60_000 }, async () => {
    const customerId = await newCustomer(h);
    const productId = await newProduct(h, 10);
    const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] });
    const orderId = order!.id;
    const grpc = clientsOver(h.stack, "grpc", permittedPrincipal);
    const connect = clientsOver(h.stack, "connect json", permittedPrincipal);
    const gate = database.gate!;

    const release = await outsider.lockOrder(orderId);
    let settled = 0;
    const writers = Array.from({ length: WRITERS }, (_, i) =>
      grpc.orders
        .updateShippingInfo({ orderId, shippingInfo: { carrier: "UPS", trackingNumber: `hot-${i}` } }, { timeoutMs: WRITER_DEADLINE_MS })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
        .finally(() => settled++),
    );
    // Saturated: the transaction share is blocked on the lock, the rest wait for a connection.
    await until(async () => (await outsider.lockWaiters()) + gate.stats().waiting >= WRITERS, "the writers to pile up");

    await database.ping(); // what the health monitor asks, on its own connection
    expect((await grpc.customers.listCustomers({ pageSize: 5 })).customers.length).toBeGreaterThan(0);
    expect((await connect.customers.listCustomers({ pageSize: 5 })).customers.length).toBeGreaterThan(0);
    expect((await fetch(`${h.stack.httpUrl}/readyz`)).status).toBe(200);
    expect((await grpc.health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    // All of that while every writer was still blocked: none has answered, the row is still locked.
    expect(settled).toBe(0);
    expect(await outsider.lockWaiters()).toBeGreaterThanOrEqual(8);

    const outcomes = await Promise.all(writers);
    // The service ends its own waits (lock_timeout from each call's deadline), lock still held.
    await until(async () => (await outsider.lockWaiters()) === 0, "the writers' transactions to give up");
    // The health monitor pinged (every 2 s) during the pile-up (4 s at least), over its own connection.
    expect((await fetch(`${h.stack.httpUrl}/readyz`)).status).toBe(200);
    expect((await grpc.health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await release();

    const kinds = outcomes.map((e) => {
      expect(e).toBeInstanceOf(ConnectError);
      const err = e as ConnectError;
      return err.code === Code.Unavailable ? `UNAVAILABLE ${reasonOf(err)}` : Code[err.code];
    });
    for (const k of kinds) expect(["DeadlineExceeded", "UNAVAILABLE DB_POOL_EXHAUSTED"]).toContain(k);
    expect(kinds.filter((k) => k === "UNAVAILABLE DB_POOL_EXHAUSTED").length).toBe(WRITERS - 8);
    await outsider.quiet();
    expect(await outsider.shippingOf(orderId)).toEqual({ carrier: null, tracking_number: null });
    expect(gate.stats()).toEqual({ inUse: 0, transactions: 0, waiting: 0 });
  });

  it("keeps readiness SERVING while every pooled connection is stuck behind the lock", { timeout: 60_000 }, async () => {
    const customerId = await newCustomer(h);
    const productId = await newProduct(h, 10);
    const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] });
    const orderId = order!.id;
    const release = await outsider.lockOrder(orderId);
    // One blocked statement per pooled connection: the pool has nothing left.
    const stuck = Array.from({ length: POOL.poolMax }, () =>
      // then() sends it (a Drizzle query is lazy).
      database.db.execute(sql`update orders.orders set version = version where id = ${orderId}`).then(() => undefined),
    );
    await until(async () => (await outsider.lockWaiters()) >= POOL.poolMax, "every pooled connection to block");
    await database.ping();
    // Across more than one health-monitor interval (2 s): never NOT_SERVING.
    const grpc = clientsOver(h.stack, "grpc", permittedPrincipal);
    const start = Date.now();
    await until(async () => {
      expect((await fetch(`${h.stack.httpUrl}/readyz`)).status).toBe(200);
      expect((await grpc.health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      return Date.now() - start > 4_500;
    }, "two health-monitor intervals");
    expect(await outsider.lockWaiters()).toBeGreaterThanOrEqual(POOL.poolMax); // still stuck all along
    await release();
    await Promise.all(stuck);
  });
});
