/**
 * Holds and sells that arrive together run as one statement
 * (src/inventory/infra/reservation-batches.ts). On both databases: the group
 * statements really run (fewer statements than calls), every member gets
 * what its own statement would have given it — its lines priced, a shortage
 * only where the stock is truly short, in arrival order — the stock adds up
 * to the unit, and a product crossing the StockLow threshold writes one event.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { outbox } from "../../../src/inventory/infra/schema.js";
import { statementDurations } from "../../../src/platform/bounded.js";
import { DomainError } from "../../../src/kernel/errors.js";
import { createInventoryFixture, type InventoryFixture } from "./fixture.js";

const runs = (f: InventoryFixture, name: string) => statementDurations(f.database.db).get(name).count;

describe("grouped holds and sells", () => {
  let f: InventoryFixture;
  beforeAll(async () => {
    f = await createInventoryFixture();
  });
  afterAll(() => f?.database.dispose());
  // No group statement failed: every fallback to single statements here is a shortage, not an error.
  afterEach(() => expect(f.groupErrors).toEqual([]));

  it("40 concurrent holds on two products: all held in fewer statements, priced, reserved to the unit; one StockLow each", async () => {
    const a = (await f.product(100n, 700n)).id;
    const b = (await f.product(90n, 300n)).id;
    const [holdsBefore, groupsBefore] = [runs(f, "inventory_reserve_hold"), runs(f, "inventory_reserve_hold_group")];
    const held = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        f.uc.reserveStock(f.cx(), { reservationId: `g-${i}-${randomUUID()}`, lines: [{ productId: a, quantity: 2 }, { productId: b, quantity: 2 }] }),
      ),
    );
    const singles = runs(f, "inventory_reserve_hold") - holdsBefore;
    const groups = runs(f, "inventory_reserve_hold_group") - groupsBefore;
    expect(groups).toBeGreaterThan(0);
    expect(singles + groups).toBeLessThan(40);
    for (const r of held) {
      expect(r.lines.map((l) => [l.productId, l.quantity, l.unitPrice.amountMinor]).sort()).toEqual(
        [[a, 2, 700n], [b, 2, 300n]].sort(),
      );
    }
    expect(await f.stockOf(a)).toEqual({ stockOnHand: 100n, reserved: 80n });
    expect(await f.stockOf(b)).toEqual({ stockOnHand: 90n, reserved: 80n });
    // a: 100 → 20 available (above 10: no event); b: 90 → 10 (not below 10) … hold 1 more of b to cross.
    await f.uc.reserveStock(f.cx(), { reservationId: `g-cross-${randomUUID()}`, lines: [{ productId: b, quantity: 1 }] });
    const lows = async (id: string) => (await f.database.db.select().from(outbox).where(eq(outbox.aggregateId, id))).length;
    expect([await lows(a), await lows(b)]).toEqual([0, 1]);
  });

  it("at the end of the stock: exactly what fits is held, the rest are INSUFFICIENT_STOCK, nothing oversold", async () => {
    const p = (await f.product(25n)).id;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        f.uc.reserveStock(f.cx(), { reservationId: `end-${i}-${randomUUID()}`, lines: [{ productId: p, quantity: 1 }] }).then(
          () => "OK",
          (e: unknown) => (e instanceof DomainError ? e.reason : `THROWN ${String(e)}`),
        ),
      ),
    );
    expect(results.filter((r) => r === "OK")).toHaveLength(25);
    expect(results.filter((r) => r === "INSUFFICIENT_STOCK")).toHaveLength(15);
    expect(await f.stockOf(p)).toEqual({ stockOnHand: 25n, reserved: 25n });
  });

  it("40 concurrent commits sell each reservation's units once, in fewer statements; a due one is not sold", async () => {
    const p = (await f.product(100n)).id;
    const ids = Array.from({ length: 40 }, (_, i) => `sell-${i}-${randomUUID()}`);
    await Promise.all(ids.map((id) => f.uc.reserveStock(f.cx(), { reservationId: id, lines: [{ productId: p, quantity: 2 }] })));
    const due = `sell-due-${randomUUID()}`;
    await f.uc.reserveStock(f.cx(), { reservationId: due, lines: [{ productId: p, quantity: 5 }], ttlMs: 1000 });
    f.clock.advance(2000);
    const [sellsBefore, groupsBefore] = [runs(f, "inventory_reserve_sell"), runs(f, "inventory_reserve_sell_group")];
    const [committed, dueResult] = await Promise.all([
      Promise.all(ids.map((id) => f.uc.commitReservation(f.cx(), id))),
      f.uc.commitReservation(f.cx(), due).then(
        () => "OK",
        (e: unknown) => (e instanceof DomainError ? `${e.kind} ${e.reason}` : `THROWN ${String(e)}`),
      ),
    ]);
    expect(committed.every((r) => r.status === "COMMITTED" && r.lines[0]?.quantity === 2)).toBe(true);
    expect(dueResult).not.toBe("OK");
    expect(runs(f, "inventory_reserve_sell_group") - groupsBefore).toBeGreaterThan(0);
    expect(runs(f, "inventory_reserve_sell") - sellsBefore + runs(f, "inventory_reserve_sell_group") - groupsBefore).toBeLessThan(41);
    // 80 sold; the due reservation's 5 are no longer sold nor (once released) held.
    expect((await f.stockOf(p)).stockOnHand).toBe(20n);
  });
});
