/**
 * Reservation retention on the app as main.ts builds it (inventory only):
 * RELEASED and EXPIRED reservations that ended more than
 * RETENTION_RESERVATIONS_HOURS ago are deleted with their lines, in
 * statements of at most RETENTION_BATCH_SIZE rows; younger ended ones, and
 * PENDING and COMMITTED ones of any age, are kept, and no stock moves. A
 * window of 0 purges nothing and takes no lock. Rows are made old by moving
 * their update_time back with SQL.
 */
import { randomUUID } from "node:crypto";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { inventoryPurgeTargets } from "../../../src/inventory/infra/retention.js";
import { rowsOf } from "../../../src/platform/db.js";
import { asPermitted } from "../../support/auth.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";
import { startTestStack, testConfig, type TestStack } from "../../support/servers.js";
import { wireError } from "./rpc-client.js";

const WINDOW_HOURS = 24;
let database: TestDatabase;
let stack: TestStack;
let client: Client<typeof InventoryService>;
beforeAll(async () => {
  database = await createTestDatabase();
  const config = await testConfig();
  stack = await startTestStack({
    database,
    config: {
      services: ["inventory"],
      reservationSweepMs: 3_600_000,
      retention: { ...config.retention, reservationsHours: WINDOW_HOURS, batchSize: 3 },
    },
  });
  client = createClient(InventoryService, asPermitted(stack.transport));
});
afterAll(async () => {
  await stack?.close();
  await database?.dispose();
});

const inventory = () => stack.app.modules.inventory!;
const rid = () => `r-${randomUUID()}`;

async function product(stock: bigint): Promise<string> {
  const res = await client.createProduct({ sku: `RT-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 100n }, initialStock: stock });
  return res.product!.id;
}
const stockOf = async (productId: string) => {
  const p = (await client.getProduct({ productId })).product!;
  return { onHand: p.stockOnHand, reserved: p.reserved };
};
/** `(id1, id2, ...)` for an `in` list (drizzle spreads an array into separate parameters). */
const inList = (ids: string[]) => sql`(${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`;
const reserve = async (productId: string, id = rid()) => {
  await client.reserveStock({ reservationId: id, lines: [{ productId, quantity: 1 }] });
  return id;
};
/** Moves reservations' update_time (when they ended, for ended ones) `hours` into the past. */
const age = (ids: string[], hours = WINDOW_HOURS + 1) =>
  database.db.execute(sql`update inventory.reservations set update_time = update_time - make_interval(hours => ${hours}) where id in ${inList(ids)}`);
const statusesOf = async (ids: string[]) =>
  Object.fromEntries(
    rowsOf<{ id: string; status: string }>(await database.db.execute(sql`select id, status from inventory.reservations where id in ${inList(ids)}`)).map(
      (r) => [r.id, r.status],
    ),
  );
const linesOf = async (ids: string[]) =>
  Number(rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from inventory.reservation_lines where reservation_id in ${inList(ids)}`))[0].n);

describe("reservation retention", () => {
  it("purges ended reservations past the window with their lines, and keeps held, sold and younger ones", async () => {
    const p = await product(100n);
    // Expired: held, then swept past their TTL (before anything else is held, so only these expire).
    const expired = [await reserve(p), await reserve(p), await reserve(p), await reserve(p)];
    expect(await inventory().sweepExpired(new Date(Date.now() + 86_400_000))).toBe(4);
    const released: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await reserve(p);
      await client.releaseReservation({ reservationId: id, reason: "test" });
      released.push(id);
    }
    const committed = await reserve(p);
    await client.commitReservation({ reservationId: committed });
    const pending = await reserve(p);
    const youngReleased = await reserve(p);
    await client.releaseReservation({ reservationId: youngReleased, reason: "test" });
    await age([...released, committed, pending]);
    await age(expired, 24 + WINDOW_HOURS + 1); // the sweep above ended them at its (a day ahead) clock
    await age([youngReleased], WINDOW_HOURS - 1); // ended, but inside the window
    const stockBefore = await stockOf(p);
    expect(stockBefore).toEqual({ onHand: 99n, reserved: 1n });

    const old = [...expired, ...released];
    const before = inventory().retention.purged["inventory.reservations"];
    // Ten at three per statement.
    expect(await inventory().retention.purge()).toEqual({ "inventory.reservations": 10 });
    expect(inventory().retention.purged["inventory.reservations"] - before).toBe(10);
    expect(await statusesOf([...old, committed, pending, youngReleased])).toEqual({
      [committed]: "COMMITTED",
      [pending]: "PENDING",
      [youngReleased]: "RELEASED",
    });
    expect(await linesOf(old)).toBe(0);
    expect(await linesOf([committed, pending, youngReleased])).toBe(3);
    expect(await stockOf(p)).toEqual(stockBefore);
    expect((await wireError(client.getReservation({ reservationId: released[0] }))).code).toBe(Code.NotFound);
    // The held one still sells.
    await client.commitReservation({ reservationId: pending });
    expect(await stockOf(p)).toEqual({ onHand: 98n, reserved: 0n });
    expect(await inventory().retention.purge()).toEqual({ "inventory.reservations": 0 });
  });

  it("deletes at most the batch size per statement", async () => {
    const p = await product(20n);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await reserve(p);
      await client.releaseReservation({ reservationId: id, reason: "test" });
      ids.push(id);
    }
    await age(ids);
    const [target] = inventoryPurgeTargets(database.db, { reservationsHours: WINDOW_HOURS });
    const cutoff = new Date(Date.now() - WINDOW_HOURS * 3_600_000);
    expect(await target.deleteBatch(cutoff, 2)).toBe(2);
    expect(Object.keys(await statusesOf(ids))).toHaveLength(3);
    expect(await target.deleteBatch(cutoff, 2)).toBe(2);
    expect(await target.deleteBatch(cutoff, 2)).toBe(1);
    expect(await statusesOf(ids)).toEqual({});
  });

  it("lets a purged id be reserved anew: a new hold, counted once", async () => {
    const p = await product(10n);
    const id = await reserve(p);
    await client.releaseReservation({ reservationId: id, reason: "test" });
    await age([id]);
    await inventory().retention.purge();
    await reserve(p, id);
    expect(await statusesOf([id])).toEqual({ [id]: "PENDING" });
    expect(await stockOf(p)).toEqual({ onHand: 10n, reserved: 1n });
  });

  it("purges nothing with a window of 0, and takes no lock for it", async () => {
    const p = await product(10n);
    const id = await reserve(p);
    await client.releaseReservation({ reservationId: id, reason: "test" });
    await age([id], 100_000);
    const config = await testConfig();
    const keeper = await startTestStack({ database, config: { services: ["inventory"], retention: { ...config.retention, reservationsHours: 0 } } });
    try {
      expect(keeper.app.leaders.inventoryRetention).toBeUndefined();
      expect(keeper.app.modules.inventory!.retention.enabled).toBe(false);
      expect(await keeper.app.modules.inventory!.retention.purge()).toEqual({});
      expect(await statusesOf([id])).toEqual({ [id]: "RELEASED" });
    } finally {
      await keeper.close();
    }
  });
});
