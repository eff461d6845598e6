/**
 * Real concurrency (Postgres only: PGlite has one connection): no
 * interleaving of calls oversells, double-holds or returns stock twice.
 */
import { randomUUID } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReservationStatus } from "../../../gen/inventory/v1/inventory_service_pb.js";
import type { InventoryModule } from "../../../src/inventory/module.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { reasonOf } from "../../support/rpc-errors.js";
import { createInventoryRpc, type InventoryClient } from "./rpc-client.js";

/** "OK", or the code and reason a call failed with. */
const outcome = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => "OK",
    (e: unknown) =>
      e instanceof ConnectError ? `${Code[e.code]} ${reasonOf(e)}` : `THROWN ${String(e)}`,
  );

const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

describe.skipIf(!onRealPostgres)("races on real Postgres", () => {
  let database: TestDatabase;
  let closeRpc: (() => Promise<void>) | undefined;
  let client: InventoryClient;
  let module: InventoryModule;

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ client, module, close: closeRpc } = await createInventoryRpc(database));
  });
  afterAll(async () => {
    await closeRpc?.();
    await database?.dispose();
  });

  const product = async (stock: bigint) =>
    (await client.createProduct({ sku: `RACE-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 1n }, initialStock: stock })).product!.id;
  const stock = async (productId: string) => {
    const p = (await client.getProduct({ productId })).product!;
    return { onHand: p.stockOnHand, reserved: p.reserved, available: p.available };
  };

  it("200 concurrent holds of 1 unit on a stock of 50: exactly 50 succeed, 150 are short", async () => {
    const p = await product(50n);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        outcome(client.reserveStock({ reservationId: `race-${i}-${randomUUID()}`, lines: [{ productId: p, quantity: 1 }] })),
      ),
    );
    expect(count(results)).toEqual({ OK: 50, "FailedPrecondition INSUFFICIENT_STOCK": 150 });
    expect(await stock(p)).toEqual({ onHand: 50n, reserved: 50n, available: 0n });
  });

  it("concurrent repeats of one reservation id hold the stock once and all return that reservation", async () => {
    const p = await product(100n);
    const q = await product(100n);
    const id = `dup-${randomUUID()}`;
    const lines = [{ productId: q, quantity: 3 }, { productId: p, quantity: 7 }];
    const responses = await Promise.all(Array.from({ length: 30 }, () => client.reserveStock({ reservationId: id, lines })));
    expect(new Set(responses.map((r) => r.reservation?.createTime?.nanos)).size).toBe(1);
    expect(responses.every((r) => r.reservation?.id === id && r.reservation.lines.length === 2)).toBe(true);
    expect(await stock(p)).toMatchObject({ onHand: 100n, reserved: 7n });
    expect(await stock(q)).toMatchObject({ onHand: 100n, reserved: 3n });
  });

  it("concurrent releases of a committed reservation return its stock exactly once", async () => {
    const p = await product(10n);
    const id = `rel-${randomUUID()}`;
    await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 4 }] });
    await client.commitReservation({ reservationId: id });
    expect(await stock(p)).toEqual({ onHand: 6n, reserved: 0n, available: 6n });
    const results = await Promise.all(Array.from({ length: 30 }, () => outcome(client.releaseReservation({ reservationId: id }))));
    expect(count(results)).toEqual({ OK: 30 });
    expect(await stock(p)).toEqual({ onHand: 10n, reserved: 0n, available: 10n });
  });

  it("due reservations raced by commits and sweeps expire once: every commit fails, stock returns once", async () => {
    const p = await product(40n);
    const ids = Array.from({ length: 20 }, () => `due-${randomUUID()}`);
    for (const id of ids) await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 2 }], ttl: durationFromMs(1000) });
    await new Promise((r) => setTimeout(r, 1100));
    const [commits] = await Promise.all([
      Promise.all(ids.map((id) => outcome(client.commitReservation({ reservationId: id })))),
      Promise.all([module.sweepExpired(), module.sweepExpired(), module.sweepExpired()]),
    ]);
    expect(count(commits)).toEqual({ "FailedPrecondition RESERVATION_EXPIRED": 20 });
    expect(await stock(p)).toEqual({ onHand: 40n, reserved: 0n, available: 40n });
  });

  it("commits, releases and sweeps racing on the same reservations leave stock matching the final statuses", async () => {
    const p = await product(300n);
    const ids = Array.from({ length: 60 }, (_, i) => `mix-${i}-${randomUUID()}`);
    const qty = (i: number) => 1 + (i % 3);
    await Promise.all(ids.map((id, i) => client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: qty(i) }] })));
    const later = new Date(Date.now() + 3_600_000); // the sweep sees every one as due; commits do not
    const calls = ids.flatMap((id, i) => [
      i % 2 === 0 ? outcome(client.commitReservation({ reservationId: id })) : Promise.resolve("OK"),
      i % 3 === 0 ? outcome(client.releaseReservation({ reservationId: id })) : Promise.resolve("OK"),
    ]);
    const results = await Promise.all([...calls, ...[1, 2, 3].map(() => outcome(module.sweepExpired(later)))]);
    expect(results.filter((r) => r !== "OK" && r !== "FailedPrecondition RESERVATION_EXPIRED" && r !== "FailedPrecondition RESERVATION_RELEASED")).toEqual([]);
    const statuses = await Promise.all(ids.map(async (id) => (await client.getReservation({ reservationId: id })).reservation!.status));
    const sum = (s: ReservationStatus) => statuses.reduce((n, st, i) => n + (st === s ? BigInt(qty(i)) : 0n), 0n);
    expect(sum(ReservationStatus.PENDING)).toBe(0n); // the sweep at `later` expired whatever nobody else took
    expect(await stock(p)).toEqual({ onHand: 300n - sum(ReservationStatus.COMMITTED), reserved: 0n, available: 300n - sum(ReservationStatus.COMMITTED) });
    // Each commit's answer agrees with where its reservation ended up.
    const endsIn: Record<string, ReservationStatus[]> = {
      OK: [ReservationStatus.COMMITTED, ReservationStatus.RELEASED],
      "FailedPrecondition RESERVATION_EXPIRED": [ReservationStatus.EXPIRED],
      "FailedPrecondition RESERVATION_RELEASED": [ReservationStatus.RELEASED],
    };
    for (let i = 0; i < ids.length; i += 2) expect(endsIn[results[2 * i]]).toContain(statuses[i]);
  });
});
