/**
 * ReturnStock through the real Connect router (the app as main.ts builds it):
 * units of a committed reservation go back to stock on hand exactly once per
 * return id, never more of a product than the reservation sold minus what was
 * returned, all lines or none; a release afterwards restocks only the rest, so
 * stock is conserved; crossings of STOCK_LOW_THRESHOLD write their events. On
 * real Postgres, concurrent returns of one reservation never return more than
 * it sold, and concurrent repeats of one return id return once.
 */
import { randomUUID } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService, ReservationStatus, type Reservation } from "../../../gen/inventory/v1/inventory_service_pb.js";
import type { InventoryModule } from "../../../src/inventory/module.js";
import { rowsOf } from "../../../src/platform/db.js";
import { asPermitted, WAREHOUSE, withPrincipal } from "../../support/auth.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { reasonOf } from "../../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../../support/servers.js";
import { wireError, type InventoryClient } from "./rpc-client.js";

const THRESHOLD = 10n;

let database: TestDatabase;
let stack: TestStack;
/** service:orders for reservations (their owner here), admin for the catalog. */
let client: InventoryClient;
/** Another service: none of the orders' reservations is its. */
let warehouse: InventoryClient;
let module: InventoryModule;

beforeAll(async () => {
  database = await createTestDatabase();
  stack = await startTestStack({
    database,
    // A minute per call: the races queue their calls on one reservation row (see rpc-client.ts).
    config: { services: ["inventory"], stockLowThreshold: Number(THRESHOLD), reservationSweepMs: 3_600_000, defaultDeadlineMs: 60_000 },
  });
  client = createClient(InventoryService, asPermitted(stack.transport));
  warehouse = createClient(InventoryService, withPrincipal(stack.transport, WAREHOUSE));
  module = stack.app.modules.inventory!;
});
afterAll(async () => {
  await stack?.close();
  await database?.dispose();
});

const product = async (stock: bigint) =>
  (await client.createProduct({ sku: `RET-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 100n }, initialStock: stock })).product!.id;
const stock = async (productId: string) => {
  const p = (await client.getProduct({ productId })).product!;
  return { onHand: p.stockOnHand, reserved: p.reserved, available: p.available };
};
const rid = () => `order:${randomUUID()}`;
const retId = () => `rma-${randomUUID()}`;

/** A committed reservation (the sale) of `lines`; returns its id. */
async function sold(lines: { productId: string; quantity: number }[]): Promise<string> {
  const reservationId = rid();
  await client.reserveStock({ reservationId, lines });
  await client.commitReservation({ reservationId });
  return reservationId;
}

/** Each line's returned quantity, by product id. */
const returnedOf = (r: Reservation | undefined) => Object.fromEntries((r?.lines ?? []).map((l) => [l.productId, l.returnedQuantity]));

async function eventTypesOf(productId: string): Promise<string[]> {
  const rows = rowsOf<{ type: string }>(
    await database.db.execute(sql`select event_type as type from inventory.outbox where aggregate_id = ${productId} order by id`),
  );
  return rows.map((r) => r.type);
}

describe("ReturnStock", () => {
  it("puts the returned units back on hand (available rises by exactly them) and the reservation shows them per line", async () => {
    const a = await product(20n);
    const b = await product(20n);
    const id = await sold([{ productId: a, quantity: 6 }, { productId: b, quantity: 4 }]);
    expect(await stock(a)).toEqual({ onHand: 14n, reserved: 0n, available: 14n });
    const { reservation } = await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 2 }], reason: "customer return" });
    expect(reservation?.status).toBe(ReservationStatus.COMMITTED);
    expect(reservation?.id).toBe(id);
    expect(returnedOf(reservation)).toEqual({ [a]: 2, [b]: 0 });
    expect(reservation?.lines.map((l) => l.quantity).sort()).toEqual([4, 6]);
    expect(await stock(a)).toEqual({ onHand: 16n, reserved: 0n, available: 16n });
    expect(await stock(b)).toEqual({ onHand: 16n, reserved: 0n, available: 16n });
    expect(returnedOf((await client.getReservation({ reservationId: id })).reservation)).toEqual({ [a]: 2, [b]: 0 });
  });

  it("takes part of a sale, then the rest; after that nothing more of it", async () => {
    const a = await product(10n);
    const b = await product(10n);
    const id = await sold([{ productId: a, quantity: 5 }, { productId: b, quantity: 3 }]);
    await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 2 }] });
    // Lines naming the same product are summed: 1 + 2 of a.
    const rest = await client.returnStock({
      reservationId: id,
      returnId: retId(),
      lines: [{ productId: a, quantity: 1 }, { productId: b, quantity: 3 }, { productId: a, quantity: 2 }],
    });
    expect(returnedOf(rest.reservation)).toEqual({ [a]: 5, [b]: 3 });
    expect(await stock(a)).toEqual({ onHand: 10n, reserved: 0n, available: 10n });
    expect(await stock(b)).toEqual({ onHand: 10n, reserved: 0n, available: 10n });
    const e = await wireError(client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 1 }] }));
    expect([e.code, e.reason]).toEqual([Code.FailedPrecondition, "RETURN_EXCEEDS_SOLD"]);
    expect(e.violations).toEqual([{ type: "RETURN_EXCEEDS_SOLD", subject: `products/${a}`, description: "returning 1, sold 5, already returned 5" }]);
    expect(await stock(a)).toEqual({ onHand: 10n, reserved: 0n, available: 10n });
  });

  it("more than sold minus returned, or a product not sold, fails RETURN_EXCEEDS_SOLD per product and returns nothing", async () => {
    const a = await product(10n);
    const b = await product(10n);
    const c = await product(10n);
    const id = await sold([{ productId: a, quantity: 5 }, { productId: b, quantity: 2 }]);
    await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 1 }] });
    const returnId = retId();
    const e = await wireError(
      client.returnStock({
        reservationId: id,
        returnId,
        lines: [{ productId: a, quantity: 5 }, { productId: b, quantity: 1 }, { productId: c, quantity: 1 }],
      }),
    );
    expect([e.code, e.reason, e.metadata.reservationId, e.metadata.returnId]).toEqual([Code.FailedPrecondition, "RETURN_EXCEEDS_SOLD", id, returnId]);
    const bySubject = (x: { subject: string }, y: { subject: string }) => x.subject.localeCompare(y.subject);
    expect(e.violations.sort(bySubject)).toEqual(
      [
        { type: "RETURN_EXCEEDS_SOLD", subject: `products/${a}`, description: "returning 5, sold 5, already returned 1" },
        { type: "RETURN_EXCEEDS_SOLD", subject: `products/${c}`, description: "returning 1, the reservation did not sell this product" },
      ].sort(bySubject),
    );
    // All or nothing: b's good line did not come back either.
    expect(await stock(a)).toEqual({ onHand: 6n, reserved: 0n, available: 6n });
    expect(await stock(b)).toEqual({ onHand: 8n, reserved: 0n, available: 8n });
    expect(await stock(c)).toEqual({ onHand: 10n, reserved: 0n, available: 10n });
    expect(returnedOf((await client.getReservation({ reservationId: id })).reservation)).toEqual({ [a]: 1, [b]: 0 });
    // A refused return is not recorded: its id can still be used.
    const ok = await client.returnStock({ reservationId: id, returnId, lines: [{ productId: b, quantity: 1 }] });
    expect(returnedOf(ok.reservation)).toEqual({ [a]: 1, [b]: 1 });
  });

  it("refuses a pending, released or expired reservation, and an unknown one or another caller's is NOT_FOUND", async () => {
    const a = await product(10n);
    const line = [{ productId: a, quantity: 1 }];

    const pending = rid();
    await client.reserveStock({ reservationId: pending, lines: line });
    const p = await wireError(client.returnStock({ reservationId: pending, returnId: retId(), lines: line }));
    expect([p.code, p.reason, p.metadata.reservationId]).toEqual([Code.FailedPrecondition, "RESERVATION_NOT_COMMITTED", pending]);

    const released = await sold(line);
    await client.releaseReservation({ reservationId: released, reason: "cancelled" });
    const r = await wireError(client.returnStock({ reservationId: released, returnId: retId(), lines: line }));
    expect([r.code, r.reason]).toEqual([Code.FailedPrecondition, "RESERVATION_RELEASED"]);

    const expired = rid();
    await client.reserveStock({ reservationId: expired, lines: line, ttl: durationFromMs(1000) });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Past its TTL, not swept yet: expired already.
    const due = await wireError(client.returnStock({ reservationId: expired, returnId: retId(), lines: line }));
    expect([due.code, due.reason]).toEqual([Code.FailedPrecondition, "RESERVATION_EXPIRED"]);
    await module.sweepExpired(new Date(Date.now() + 5000));
    const x = await wireError(client.returnStock({ reservationId: expired, returnId: retId(), lines: line }));
    expect([x.code, x.reason]).toEqual([Code.FailedPrecondition, "RESERVATION_EXPIRED"]);

    const nf = await wireError(client.returnStock({ reservationId: "no-such-reservation", returnId: retId(), lines: line }));
    expect([nf.code, nf.reason]).toEqual([Code.NotFound, "RESERVATION_NOT_FOUND"]);

    const mine = await sold(line);
    const theirs = await wireError(warehouse.returnStock({ reservationId: mine, returnId: retId(), lines: line }));
    expect([theirs.code, theirs.reason]).toEqual([Code.NotFound, "RESERVATION_NOT_FOUND"]);
    // pending holds 1, `released` came back, `expired` was swept, `mine` sold 1 and nothing of it came back.
    expect(await stock(a)).toEqual({ onHand: 9n, reserved: 1n, available: 8n });
  });

  it("is idempotent by return id: a repeat changes nothing and answers the reservation as it is now; other lines or reason are IDEMPOTENCY_KEY_REUSED", async () => {
    const a = await product(10n);
    const b = await product(10n);
    const id = await sold([{ productId: a, quantity: 5 }, { productId: b, quantity: 5 }]);
    const first = { reservationId: id, returnId: "rma-1", lines: [{ productId: a, quantity: 2 }], reason: "damaged box" };
    const once = await client.returnStock(first);
    expect(await client.returnStock(first)).toEqual(once);
    // The same lines written another way (split, same sum) are the same return.
    expect(await client.returnStock({ ...first, lines: [{ productId: a, quantity: 1 }, { productId: a, quantity: 1 }] })).toEqual(once);
    expect(await stock(a)).toEqual({ onHand: 7n, reserved: 0n, available: 7n });

    await client.returnStock({ reservationId: id, returnId: "rma-2", lines: [{ productId: b, quantity: 1 }] });
    const now = await client.returnStock(first);
    expect(returnedOf(now.reservation)).toEqual({ [a]: 2, [b]: 1 });
    expect(await stock(a)).toEqual({ onHand: 7n, reserved: 0n, available: 7n });

    const lines = await wireError(client.returnStock({ ...first, lines: [{ productId: a, quantity: 3 }] }));
    expect([lines.code, lines.reason, lines.fields, lines.metadata.returnId]).toEqual([Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED", ["lines"], "rma-1"]);
    const reason = await wireError(client.returnStock({ ...first, reason: "another" }));
    expect([reason.code, reason.reason, reason.fields]).toEqual([Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED", ["reason"]]);

    // Return ids are per reservation: another sale takes "rma-1" as a new return.
    const other = await sold([{ productId: a, quantity: 3 }]);
    expect(returnedOf((await client.returnStock({ ...first, reservationId: other })).reservation)).toEqual({ [a]: 2 });
    expect(await stock(a)).toEqual({ onHand: 6n, reserved: 0n, available: 6n });

    // After a release, a repeat still answers (the reservation as it is now); nothing moves.
    await client.releaseReservation({ reservationId: id });
    const after = await client.returnStock(first);
    expect(after.reservation?.status).toBe(ReservationStatus.RELEASED);
    expect(returnedOf(after.reservation)).toEqual({ [a]: 2, [b]: 1 });
  });

  it("a release after a partial return restocks only the rest: every sold unit comes back exactly once", async () => {
    const a = await product(10n);
    const b = await product(10n);
    const c = await product(10n);
    const id = await sold([{ productId: a, quantity: 4 }, { productId: b, quantity: 3 }, { productId: c, quantity: 2 }]);
    await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 1 }, { productId: b, quantity: 3 }] });
    expect([await stock(a), await stock(b), await stock(c)].map((s) => s.onHand)).toEqual([7n, 10n, 8n]);
    for (let i = 0; i < 2; i++) {
      const { reservation } = await client.releaseReservation({ reservationId: id, reason: "order cancelled" });
      expect(reservation?.status).toBe(ReservationStatus.RELEASED);
      expect(returnedOf(reservation)).toEqual({ [a]: 1, [b]: 3, [c]: 0 });
      const after = [await stock(a), await stock(b), await stock(c)];
      expect(after).toEqual(Array.from({ length: 3 }, () => ({ onHand: 10n, reserved: 0n, available: 10n })));
      expect(after.reduce((n, s) => n + s.onHand, 0n)).toBe(30n);
    }
    const e = await wireError(client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: c, quantity: 1 }] }));
    expect(e.reason).toBe("RESERVATION_RELEASED");
  });

  it("writes StockReplenished when a return takes available stock back to the threshold, in its transaction", async () => {
    const a = await product(12n);
    const id = await sold([{ productId: a, quantity: 5 }]); // available 12 → 7: StockLow (the hold)
    expect(await eventTypesOf(a)).toEqual(["inventory.v1.StockLow"]);
    await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 2 }] }); // 7 → 9: still low
    expect(await eventTypesOf(a)).toEqual(["inventory.v1.StockLow"]);
    await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 1 }] }); // 9 → 10: replenished
    await client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 2 }] }); // 10 → 12: nothing
    expect(await eventTypesOf(a)).toEqual(["inventory.v1.StockLow", "inventory.v1.StockReplenished"]);
    // A refused return writes nothing.
    await wireError(client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 1 }] }));
    expect(await eventTypesOf(a)).toEqual(["inventory.v1.StockLow", "inventory.v1.StockReplenished"]);
    expect(await stock(a)).toEqual({ onHand: 12n, reserved: 0n, available: 12n });
  });

  it("validates the request: ids, 1 to 100 lines of a UUID and 1 to 10,000 units, a reason of at most 500 characters", async () => {
    const a = await product(1n);
    const bad = await wireError(
      client.returnStock({ reservationId: "has space", returnId: "", lines: [{ productId: "x", quantity: 0 }, { productId: a, quantity: 10_001 }], reason: "r".repeat(501) }),
    );
    expect([bad.code, bad.reason]).toEqual([Code.InvalidArgument, "INVALID_REQUEST"]);
    expect(bad.fields.sort()).toEqual(["lines[0].product_id", "lines[0].quantity", "lines[1].quantity", "reason", "reservation_id", "return_id"]);
    expect((await wireError(client.returnStock({ reservationId: rid(), returnId: "r", lines: [] }))).fields).toEqual(["lines"]);
    const many = Array.from({ length: 101 }, () => ({ productId: a, quantity: 1 }));
    expect((await wireError(client.returnStock({ reservationId: rid(), returnId: "r", lines: many }))).fields).toEqual(["lines"]);
    expect((await wireError(client.returnStock({ reservationId: rid(), returnId: "r".repeat(129), lines: [{ productId: a, quantity: 1 }] }))).fields).toEqual(["return_id"]);
  });
});

/** "OK", or the code and reason a call failed with. */
const outcome = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => "OK",
    (e: unknown) => (e instanceof ConnectError ? `${Code[e.code]} ${reasonOf(e)}` : `THROWN ${String(e)}`),
  );
const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

describe.skipIf(!onRealPostgres)("ReturnStock races on real Postgres", () => {
  it("20 concurrent returns of 1 unit on a sale of 10: exactly 10 succeed, stock rises by exactly 10", async () => {
    const a = await product(30n);
    const id = await sold([{ productId: a, quantity: 10 }]);
    expect((await stock(a)).onHand).toBe(20n);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => outcome(client.returnStock({ reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 1 }] }))),
    );
    expect(count(results)).toEqual({ OK: 10, "FailedPrecondition RETURN_EXCEEDS_SOLD": 10 });
    expect(await stock(a)).toEqual({ onHand: 30n, reserved: 0n, available: 30n });
    expect(returnedOf((await client.getReservation({ reservationId: id })).reservation)).toEqual({ [a]: 10 });
  });

  it("10 concurrent repeats of one return id return the units once, and all answer OK", async () => {
    const a = await product(30n);
    const id = await sold([{ productId: a, quantity: 10 }]);
    const request = { reservationId: id, returnId: retId(), lines: [{ productId: a, quantity: 3 }], reason: "customer return" };
    const results = await Promise.all(Array.from({ length: 10 }, () => client.returnStock(request)));
    expect(results.every((r) => returnedOf(r.reservation)[a] === 3)).toBe(true);
    expect(await stock(a)).toEqual({ onHand: 23n, reserved: 0n, available: 23n });
  });

  it("returns racing a release: every sold unit comes back exactly once", async () => {
    const a = await product(30n);
    const b = await product(30n);
    const id = await sold([{ productId: a, quantity: 10 }, { productId: b, quantity: 6 }]);
    const returns = Array.from({ length: 12 }, (_, i) =>
      outcome(client.returnStock({ reservationId: id, returnId: `race-${i}`, lines: [{ productId: i % 2 ? a : b, quantity: 1 }] })),
    );
    const release = outcome(client.releaseReservation({ reservationId: id, reason: "cancelled" }));
    const results = await Promise.all([...returns, release]);
    expect(results.every((r) => r === "OK" || r === "FailedPrecondition RESERVATION_RELEASED")).toBe(true);
    expect(results.at(-1)).toBe("OK");
    expect(await stock(a)).toEqual({ onHand: 30n, reserved: 0n, available: 30n });
    expect(await stock(b)).toEqual({ onHand: 30n, reserved: 0n, available: 30n });
  });
});
