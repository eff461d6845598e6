/**
 * Inventory's own events (proto/inventory/v1/inventory_events.proto), on the
 * app as main.ts builds it: each change that takes a product's available
 * stock across STOCK_LOW_THRESHOLD writes exactly one StockLow or
 * StockReplenished into inventory.outbox in the same transaction (the hold:
 * the same statement), nothing else does, a failed change writes nothing,
 * and each reservation the sweep expires writes a ReservationExpired. On real
 * Postgres, concurrent holds and releases on one product leave its events
 * alternating, each on the right side of the threshold.
 */
import { randomUUID } from "node:crypto";
import { create, equals, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReservationExpiredSchema, StockLowSchema, StockReplenishedSchema } from "../../../gen/inventory/v1/inventory_events_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { stockEvent } from "../../../src/inventory/rpc/inventory-events.js";
import { rowsOf } from "../../../src/platform/db.js";
import { asPermitted } from "../../support/auth.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { reasonOf, rpcFailure } from "../../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../../support/servers.js";

const THRESHOLD = 10n;

interface EventRow {
  position: number;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: JsonValue;
  version: number | null;
}

let database: TestDatabase;
let stack: TestStack;
let client: ReturnType<typeof createClient<typeof InventoryService>>;

beforeAll(async () => {
  database = await createTestDatabase();
  stack = await startTestStack({ database, config: { services: ["inventory"], stockLowThreshold: Number(THRESHOLD), reservationSweepMs: 3_600_000 } });
  client = createClient(InventoryService, asPermitted(stack.transport));
});
afterAll(async () => {
  await stack?.close();
  await database?.dispose();
});

async function eventsOf(aggregateId: string): Promise<EventRow[]> {
  const rows = rowsOf<EventRow & { position: string | number; payload: string | JsonValue }>(
    await database.db.execute(sql`select id as position, aggregate_type as "aggregateType", aggregate_id as "aggregateId", event_type as type,
      payload, version from inventory.outbox where aggregate_id = ${aggregateId} order by id`),
  );
  return rows.map((r) => ({ ...r, position: Number(r.position), payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as JsonValue) : r.payload }));
}

const product = async (stock: bigint) =>
  (await client.createProduct({ sku: `EV-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 100n }, initialStock: stock })).product!;
const reserve = (productId: string, quantity: number, ttlSeconds?: number) =>
  client.reserveStock({
    reservationId: `ev-${randomUUID()}`,
    lines: [{ productId, quantity }],
    ...(ttlSeconds ? { ttl: { seconds: BigInt(ttlSeconds), nanos: 0 } } : {}),
  });
const types = (events: EventRow[]) => events.map((e) => e.type);

describe("inventory events in the outbox", () => {
  it("a hold taking available stock below the threshold writes one StockLow, in protobuf-es's encoding; holds that do not cross write none", async () => {
    const p = await product(13n);
    await reserve(p.id, 3); // 13 → 10: still at the threshold
    expect(await eventsOf(p.id)).toEqual([]);
    await reserve(p.id, 2); // 10 → 8: below
    await reserve(p.id, 1); // 8 → 7: already below
    const events = await eventsOf(p.id);
    expect(types(events)).toEqual(["inventory.v1.StockLow"]);
    expect(events[0]).toMatchObject({ aggregateType: "product", aggregateId: p.id, version: null });
    // Built in SQL by the hold statement: it must decode strictly (no unknown field) to what protobuf-es would write.
    const written = fromJson(StockLowSchema, events[0].payload);
    const expected = stockEvent("down", { productId: p.id, sku: p.sku, stockOnHand: 13n, reserved: 5n }, THRESHOLD);
    expect(equals(StockLowSchema, written, fromJson(StockLowSchema, expected.payload))).toBe(true);
    expect(written).toMatchObject({ productId: p.id, sku: p.sku, available: 8n, stockOnHand: 13n, threshold: THRESHOLD });
  });

  it("a hold that fails writes nothing, even for a line that alone would have crossed", async () => {
    const crossing = await product(11n);
    const short = await product(1n);
    const failure = await rpcFailure(
      client.reserveStock({ reservationId: `ev-${randomUUID()}`, lines: [{ productId: crossing.id, quantity: 5 }, { productId: short.id, quantity: 2 }] }),
    );
    expect(reasonOf(failure)).toBe("INSUFFICIENT_STOCK");
    expect(await eventsOf(crossing.id)).toEqual([]);
    expect(await eventsOf(short.id)).toEqual([]);
    expect((await client.getProduct({ productId: crossing.id })).product!.reserved).toBe(0n);
  });

  it("releases, returns and stock changes that cross back write StockReplenished; a sale writes nothing", async () => {
    const p = await product(12n);
    const held = await reserve(p.id, 4); // 12 → 8: low
    await client.releaseReservation({ reservationId: held.reservation!.id, reason: "changed mind" }); // 8 → 12: replenished
    const sold = await reserve(p.id, 5); // 12 → 7: low
    await client.commitReservation({ reservationId: sold.reservation!.id }); // sold: available stays 7
    await client.releaseReservation({ reservationId: sold.reservation!.id, reason: "returned" }); // 7 → 12 (stock back on hand): replenished
    await client.adjustStock({ productId: p.id, delta: -3n, reason: "damaged" }); // 12 → 9: low
    await client.setStock({ productId: p.id, stockOnHand: 50n }); // 9 → 50: replenished
    await client.setStock({ productId: p.id, stockOnHand: 40n }); // still above: nothing
    const events = await eventsOf(p.id);
    expect(types(events)).toEqual([
      "inventory.v1.StockLow",
      "inventory.v1.StockReplenished",
      "inventory.v1.StockLow",
      "inventory.v1.StockReplenished",
      "inventory.v1.StockLow",
      "inventory.v1.StockReplenished",
    ]);
    const last = fromJson(StockReplenishedSchema, events[5].payload);
    expect(equals(StockReplenishedSchema, last, create(StockReplenishedSchema, { productId: p.id, sku: p.sku, available: 50n, stockOnHand: 50n, threshold: THRESHOLD }))).toBe(true);
  });

  it("the sweep writes one ReservationExpired per expired reservation, with its lines, and the crossing back", async () => {
    const p = await product(12n);
    const q = await product(100n);
    const r = await client.reserveStock({
      reservationId: `ev-${randomUUID()}`,
      lines: [{ productId: p.id, quantity: 3 }, { productId: q.id, quantity: 7 }],
      ttl: { seconds: 60n, nanos: 0 },
    });
    const expired = await stack.app.modules.inventory!.sweepExpired(new Date(Date.now() + 3_600_000));
    expect(expired).toBeGreaterThanOrEqual(1);
    const events = await eventsOf(r.reservation!.id);
    expect(types(events)).toEqual(["inventory.v1.ReservationExpired"]);
    expect(events[0].aggregateType).toBe("reservation");
    const e = fromJson(ReservationExpiredSchema, events[0].payload);
    expect(e.owner).toMatch(/^service:/);
    expect(e.lines.map((l) => [l.productId, l.quantity]).sort()).toEqual([[p.id, 3], [q.id, 7]].sort());
    expect(timestampDate(e.expireTime!).getTime()).toBe(timestampDate(r.reservation!.expireTime!).getTime());
    expect(types(await eventsOf(p.id))).toEqual(["inventory.v1.StockLow", "inventory.v1.StockReplenished"]);
    expect(await eventsOf(q.id)).toEqual([]);
  });
});

describe("STOCK_LOW_THRESHOLD=0", () => {
  it("writes no stock events", async () => {
    const quiet = await startTestStack({ database, config: { services: ["inventory"], stockLowThreshold: 0, reservationSweepMs: 3_600_000 } });
    try {
      const c = createClient(InventoryService, asPermitted(quiet.transport));
      const p = (await c.createProduct({ sku: `EV-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 1n }, initialStock: 5n })).product!;
      const r = await c.reserveStock({ reservationId: `ev-${randomUUID()}`, lines: [{ productId: p.id, quantity: 5 }] });
      await c.releaseReservation({ reservationId: r.reservation!.id, reason: "x" });
      await c.adjustStock({ productId: p.id, delta: -5n, reason: "x" });
      expect(await eventsOf(p.id)).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});

describe.skipIf(!onRealPostgres)("inventory events under concurrency (real Postgres)", () => {
  it("concurrent holds and releases around the threshold: one product's events alternate, each on its side, the last matching the stock", async () => {
    const p = await product(20n);
    // 10 held first: available 10, at the threshold (no event).
    const first = await Promise.all(Array.from({ length: 10 }, () => reserve(p.id, 1)));
    expect(await eventsOf(p.id)).toEqual([]);
    // Then, all at once: 12 more holds of 1 (some may be short) and the release of the first 10, twice over.
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) ops.push(reserve(p.id, 1).catch(() => undefined));
    for (const r of first) ops.push(client.releaseReservation({ reservationId: r.reservation!.id, reason: "race" }));
    for (let i = 0; i < 12; i++) ops.push(reserve(p.id, 2).catch(() => undefined));
    await Promise.all(ops);
    const events = await eventsOf(p.id);
    expect(events.length).toBeGreaterThan(0);
    events.forEach((e, i) => {
      const low = i % 2 === 0;
      expect(e.type).toBe(low ? "inventory.v1.StockLow" : "inventory.v1.StockReplenished");
      const m = fromJson(low ? StockLowSchema : StockReplenishedSchema, e.payload);
      if (low) expect(m.available).toBeLessThan(THRESHOLD);
      else expect(m.available).toBeGreaterThanOrEqual(THRESHOLD);
    });
    const available = (await client.getProduct({ productId: p.id })).product!.available;
    expect(events.at(-1)!.type).toBe(available < THRESHOLD ? "inventory.v1.StockLow" : "inventory.v1.StockReplenished");
  });
});
