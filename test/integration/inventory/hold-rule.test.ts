/**
 * The hold rule exists twice: planHold states it (and builds its errors), the
 * hold statement applies it in SQL under its row locks. On random stock, with
 * unknown products among the requested ones, the repository's reserve must
 * do exactly what planHold decides: hold the lines it prices, or fail with
 * the very error it throws and leave every row as it was.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { money } from "../../../src/inventory/domain/money.js";
import { mergeLines, type ReservationRequest } from "../../../src/inventory/domain/reservation.js";
import { planHold, type StockLevel } from "../../../src/inventory/domain/stock-hold.js";
import type { ReservationRepository } from "../../../src/inventory/domain/ports.js";
import { createInventoryEvents } from "../../../src/inventory/infra/inventory-events.js";
import { createReservationRepository } from "../../../src/inventory/infra/reservation-repository.js";
import { products, reservations } from "../../../src/inventory/infra/schema.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";

/** A requested product: in the catalog with `free` available of `free + held`, or unknown; asked for `quantity`. */
const lineSpec = fc.record({
  known: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  free: fc.nat(12),
  held: fc.nat(5),
  quantity: fc.integer({ min: 1, max: 14 }),
});

const errorOf = async (work: () => unknown): Promise<unknown> => {
  try {
    await work();
  } catch (e) {
    return e;
  }
  return undefined;
};
const asPlain = (e: unknown) => (e instanceof DomainError ? { kind: e.kind, reason: e.reason, message: e.message, options: e.options } : e);

describe("the hold statement and planHold agree", () => {
  let database: TestDatabase;
  let repo: ReservationRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    repo = createReservationRepository(database.db, createInventoryEvents(10));
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const stockOf = async (ids: string[]): Promise<StockLevel[]> =>
    (await database.db.select().from(products).where(inArray(products.id, ids)).orderBy(asc(products.id))).map((r) => ({
      id: r.id,
      stockOnHand: r.stockOnHand,
      reserved: r.reserved,
      unitPrice: money(r.currency, r.unitPriceMinor),
    }));

  it("holds exactly what planHold prices and otherwise fails with its error, writing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lineSpec, { minLength: 1, maxLength: 5 }), async (specs) => {
        const now = new Date();
        const ids = specs.map(() => randomUUID());
        const known = specs.flatMap((s, i) => (s.known ? [{ s, id: ids[i], price: BigInt(100 + i) }] : []));
        if (known.length > 0) {
          await database.db.insert(products).values(
            known.map(({ s, id, price }) => ({
              id,
              sku: `RULE-${id}`,
              name: "x",
              unitPriceMinor: price,
              currency: "EUR",
              stockOnHand: BigInt(s.free + s.held),
              reserved: BigInt(s.held),
              createTime: now,
              updateTime: now,
            })),
          );
        }
        const request: ReservationRequest = {
          owner: "rule",
          id: `rule-${randomUUID()}`,
          lines: mergeLines(specs.map((s, i) => ({ productId: ids[i], quantity: s.quantity }))),
          expireTime: new Date(now.getTime() + 60_000),
          now,
        };
        const before = await stockOf(ids);
        const expected = await errorOf(() => planHold(request.id, request.lines, before));
        let held: Awaited<ReturnType<ReservationRepository["reserve"]>> | undefined;
        const actual = await errorOf(async () => (held = await repo.reserve(request)));

        if (expected === undefined) {
          expect(actual).toBeUndefined();
          expect(held?.created).toBe(true);
          expect(held?.reservation.lines).toEqual(planHold(request.id, request.lines, before));
          const byId = new Map(request.lines.map((l) => [l.productId, BigInt(l.quantity)]));
          expect(await stockOf(ids)).toEqual(before.map((l) => ({ ...l, reserved: l.reserved + byId.get(l.id)! })));
        } else {
          expect(actual).toBeInstanceOf(DomainError);
          expect(asPlain(actual)).toEqual(asPlain(expected));
          expect(await stockOf(ids)).toEqual(before);
          const stored = await database.db.select().from(reservations).where(eq(reservations.id, request.id));
          expect(stored).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
