/**
 * Real concurrency (Postgres only): holds and commits of reservations whose
 * products overlap, named in every order, run as single statements that lock
 * the products in id order. None may deadlock (Postgres would abort one with
 * 40P01 → INTERNAL), oversell, or leave a partial hold.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { reasonOf } from "../../support/rpc-errors.js";
import { createInventoryRpc, type InventoryClient } from "./rpc-client.js";

describe.skipIf(!onRealPostgres)("overlapping multi-product reservations on real Postgres", () => {
  let database: TestDatabase;
  let closeRpc: (() => Promise<void>) | undefined;
  let client: InventoryClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ client, close: closeRpc } = await createInventoryRpc(database));
  });
  afterAll(async () => {
    await closeRpc?.();
    await database?.dispose();
  });

  const product = async (stock: bigint) =>
    (await client.createProduct({ sku: `OVL-${randomUUID()}`, name: "x", unitPrice: { currencyCode: "USD", amountMinor: 1n }, initialStock: stock })).product!.id;
  const stockOf = async (productId: string) => {
    const p = (await client.getProduct({ productId })).product!;
    return { onHand: p.stockOnHand, reserved: p.reserved };
  };

  it("150 concurrent reserve-then-commit calls over 4 shared products, lines in random order: all or nothing, stock conserved", async () => {
    const initial = 60n;
    const ids = await Promise.all([product(initial), product(initial), product(initial), product(initial)]);
    const shuffled = <T>(xs: T[]) => xs.map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
    const attempts = Array.from({ length: 150 }, () =>
      shuffled(ids)
        .slice(0, 2 + Math.floor(Math.random() * 3))
        .map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 2) })),
    );
    const outcomes = await Promise.all(
      attempts.map(async (lines) => {
        const reservationId = `ovl-${randomUUID()}`;
        try {
          await client.reserveStock({ reservationId, lines });
          await client.commitReservation({ reservationId });
          return { lines, sold: true };
        } catch (e) {
          if (e instanceof ConnectError && e.code === Code.FailedPrecondition && reasonOf(e) === "INSUFFICIENT_STOCK") {
            return { lines, sold: false };
          }
          throw e;
        }
      }),
    );
    const sold = new Map<string, bigint>(ids.map((id) => [id, 0n]));
    for (const o of outcomes.filter((x) => x.sold)) {
      for (const l of o.lines) sold.set(l.productId, sold.get(l.productId)! + BigInt(l.quantity));
    }
    expect(outcomes.some((o) => o.sold)).toBe(true);
    expect(outcomes.some((o) => !o.sold)).toBe(true);
    for (const id of ids) expect(await stockOf(id)).toEqual({ onHand: initial - sold.get(id)!, reserved: 0n });
  });
});
