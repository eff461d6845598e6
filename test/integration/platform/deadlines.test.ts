/**
 * A call's deadline reaches the database (src/platform/bounded.ts).
 *
 * On Postgres (skipped on PGlite: one connection, so no other session can
 * hold a lock): another session locks an order's row; UpdateShippingInfo
 * with a 300 ms deadline, over gRPC and over the Connect fast path
 * (connect-timeout-ms), answers DEADLINE_EXCEEDED; the service stops
 * waiting for the lock by itself (lock_timeout); then the lock is released,
 * the service's sessions go quiet, and the change is not there — it never
 * committed, not even once the row was free.
 *
 * On both databases: boundedTransaction sets the timeouts from the time
 * left and rolls back a transaction that is still running at the deadline.
 */
import { Code } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { DomainError } from "../../../src/kernel/errors.js";
import { boundedTransaction } from "../../../src/platform/bounded.js";
import { rowsOf } from "../../../src/platform/db.js";
import { databaseFailureOf } from "../../../src/platform/pg-errors.js";
import { authHeaders, permittedPrincipal } from "../../support/auth.js";
import { clientsOver } from "../../support/clients.js";
import { onRealPostgres } from "../../support/db.js";
import { reasonOf, rpcFailure } from "../../support/rpc-errors.js";
import type { TestStack } from "../../support/servers.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "../orders/harness.js";
import { createOutsider, until, type Outsider } from "./row-lock.js";

let h: OrdersHarness;
let stack: TestStack;
let outsider: Outsider | undefined;

beforeAll(async () => {
  h = await createOrdersHarness();
  stack = h.stack;
  if (h.database.url) outsider = createOutsider(h.database.url);
});

afterAll(async () => {
  await outsider?.close();
  await h.close();
});

async function newOrder(): Promise<string> {
  const customerId = await newCustomer(h);
  const productId = await newProduct(h, 10);
  const { order } = await h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] });
  return order!.id;
}

const DEADLINE_REASONS = ["LOCK_TIMEOUT", "DATABASE_TIMEOUT", "DEADLINE_EXCEEDED"];

describe.skipIf(!onRealPostgres)("a locked order row (Postgres)", () => {
  it("gRPC: UpdateShippingInfo with a 300 ms deadline answers DEADLINE_EXCEEDED and never commits", async () => {
    const orderId = await newOrder();
    const release = await outsider!.lockOrder(orderId);
    const orders = clientsOver(stack, "grpc", permittedPrincipal).orders;
    const err = await rpcFailure(
      orders.updateShippingInfo({ orderId, shippingInfo: { carrier: "UPS", trackingNumber: "late-grpc" } }, { timeoutMs: 300 }),
    );
    expect(err.code).toBe(Code.DeadlineExceeded);
    // The service's own deadline ends its wait (without the timeouts it would wait for ever).
    await until(async () => (await outsider!.lockWaiters()) === 0, "the service to stop waiting for the lock");
    await release();
    await outsider!.quiet();
    expect(await outsider!.shippingOf(orderId)).toEqual({ carrier: null, tracking_number: null });
  });

  it("Connect fast path: connect-timeout-ms 300 answers deadline_exceeded from the server and never commits", async () => {
    const orderId = await newOrder();
    const release = await outsider!.lockOrder(orderId);
    // A plain fetch, so the answer is the server's (a Connect client would give up by itself).
    const res = await fetch(`${stack.httpUrl}/orders.v1.OrderService/UpdateShippingInfo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "connect-timeout-ms": "300",
        ...(await authHeaders(permittedPrincipal(OrderService.method.updateShippingInfo))),
      },
      body: JSON.stringify({ orderId, shippingInfo: { carrier: "UPS", trackingNumber: "late-connect" } }),
    });
    const body: unknown = await res.json();
    expect(res.status).toBe(504);
    const err = errorFromJson(body as never, undefined, new Error("not a Connect error") as never);
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(DEADLINE_REASONS).toContain(reasonOf(err));
    await until(async () => (await outsider!.lockWaiters()) === 0, "the service to stop waiting for the lock");
    await release();
    await outsider!.quiet();
    expect(await outsider!.shippingOf(orderId)).toEqual({ carrier: null, tracking_number: null });
  });

  it("the transaction's first statement already waits for a lock under lock_timeout: DEADLINE_EXCEEDED LOCK_TIMEOUT", async () => {
    const orderId = await newOrder();
    const release = await outsider!.lockOrder(orderId);
    const failure = await boundedTransaction(stack.database.db, { deadline: Date.now() + 300 }, (tx) =>
      tx.execute(sql`select id from orders.orders where id = ${orderId} for update`),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    await release();
    expect(databaseFailureOf(failure)).toMatchObject({ kind: "DEADLINE_EXCEEDED", reason: "LOCK_TIMEOUT" });
  });

  it("a statement that outlives the deadline is cancelled by the server: DEADLINE_EXCEEDED DATABASE_TIMEOUT", async () => {
    const failure = await boundedTransaction(stack.database.db, { deadline: Date.now() + 300 }, (tx) =>
      tx.execute(sql`select pg_sleep(5)`),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(databaseFailureOf(failure)).toMatchObject({ kind: "DEADLINE_EXCEEDED", reason: "DATABASE_TIMEOUT" });
  });
});

describe("boundedTransaction", () => {
  beforeAll(async () => {
    await stack.database.db.execute(sql`create table if not exists deadline_probe (n int)`);
  });

  it("sets statement_timeout and lock_timeout from the time left", async () => {
    const settings = await boundedTransaction(stack.database.db, { deadline: Date.now() + 5_000 }, async (tx) =>
      rowsOf<{ s: string; l: string }>(
        await tx.execute(sql`select current_setting('statement_timeout') as s, current_setting('lock_timeout') as l`),
      ),
    );
    for (const value of [settings[0].s, settings[0].l]) {
      const ms = value.endsWith("ms") ? Number(value.slice(0, -2)) : Number(value.replace(/s$/, "")) * 1000;
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(5_000);
    }
    // Local to the transaction: the next one without a deadline has none.
    const after = await boundedTransaction(stack.database.db, undefined, async (tx) =>
      rowsOf<{ s: string }>(await tx.execute(sql`select current_setting('statement_timeout') as s`)),
    );
    expect(after[0].s).toBe("0");
  });

  it("rolls back, DEADLINE_EXCEEDED, a transaction still running when the deadline passes", async () => {
    const deadline = Date.now() + 250;
    const failure = await boundedTransaction(stack.database.db, { deadline }, async (tx) => {
      await tx.execute(sql`insert into deadline_probe (n) values (1)`);
      await until(() => Date.now() > deadline, "the deadline to pass");
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(DomainError);
    expect(failure).toMatchObject({ kind: "DEADLINE_EXCEEDED", reason: "DEADLINE_EXCEEDED" });
    const rows = rowsOf<{ n: number }>(await stack.database.db.execute(sql`select count(*)::int as n from deadline_probe`));
    expect(rows[0].n).toBe(0);
  });

  it("does not start once the deadline has passed", async () => {
    let ran = false;
    const failure = await boundedTransaction(stack.database.db, { deadline: Date.now() - 1 }, async () => {
      ran = true;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ kind: "DEADLINE_EXCEEDED" });
    expect(ran).toBe(false);
  });
});
