/**
 * Reservations through the use cases against a migrated database: holds are
 * all or nothing, repeats are idempotent, every transition moves stock once.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { money } from "../../../src/inventory/domain/money.js";
import { domainFailure } from "../../support/rpc-errors.js";
import { createInventoryFixture, TTL_MS, type InventoryFixture } from "./fixture.js";

let f: InventoryFixture;
beforeAll(async () => {
  f = await createInventoryFixture();
});
afterAll(() => f?.database.dispose());

const rid = () => `res-${randomUUID()}`;
const reserve = (reservationId: string, lines: { productId: string; quantity: number }[], ttlMs?: number) =>
  f.uc.reserveStock(f.cx(), { reservationId, lines, ttlMs });

describe("ReserveStock", () => {
  it("holds every line, summing repeated products, and returns each line's captured price", async () => {
    const a = await f.product(10n, 250n);
    const b = await f.product(5n, 990n);
    const r = await reserve(rid(), [{ productId: a.id, quantity: 2 }, { productId: b.id, quantity: 5 }, { productId: a.id, quantity: 1 }]);
    expect(r.status).toBe("PENDING");
    expect(r.expireTime).toEqual(new Date(f.clock.now.getTime() + TTL_MS));
    expect(new Set(r.lines)).toEqual(new Set([
      { productId: a.id, quantity: 3, unitPrice: money("USD", 250n) },
      { productId: b.id, quantity: 5, unitPrice: money("USD", 990n) },
    ]));
    expect(await f.stockOf(a.id)).toEqual({ stockOnHand: 10n, reserved: 3n });
    expect(await f.stockOf(b.id)).toEqual({ stockOnHand: 5n, reserved: 5n });
    expect(await f.uc.getReservation(f.cx(), r.id)).toEqual(r);
  });

  it("holds nothing when any product is short, and names each short product", async () => {
    const ok = await f.product(10n);
    const short1 = await f.product(1n);
    const short2 = await f.product(0n);
    const e = await domainFailure(reserve(rid(), [
      { productId: ok.id, quantity: 4 },
      { productId: short1.id, quantity: 2 },
      { productId: short2.id, quantity: 1 },
    ]));
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "INSUFFICIENT_STOCK"]);
    expect(e.options.preconditionViolations?.map((v) => [v.subject, v.description]).sort()).toEqual(
      [[`products/${short1.id}`, "requested 2, available 1"], [`products/${short2.id}`, "requested 1, available 0"]].sort(),
    );
    expect(await f.stockOf(ok.id)).toEqual({ stockOnHand: 10n, reserved: 0n });
  });

  it("an unknown product fails NOT_FOUND PRODUCT_NOT_FOUND and the id stays free for a retry", async () => {
    const p = await f.product(3n);
    const id = rid();
    const ghost = randomUUID();
    const e = await domainFailure(reserve(id, [{ productId: p.id, quantity: 1 }, { productId: ghost, quantity: 1 }]));
    expect([e.kind, e.reason, e.options.metadata?.productId]).toEqual(["NOT_FOUND", "PRODUCT_NOT_FOUND", ghost]);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 3n, reserved: 0n });
    expect((await reserve(id, [{ productId: p.id, quantity: 1 }])).status).toBe("PENDING");
  });

  it("is idempotent by reservation id: a repeat returns the first reservation and holds nothing more", async () => {
    const p = await f.product(10n);
    const id = rid();
    const first = await reserve(id, [{ productId: p.id, quantity: 4 }]);
    f.clock.advance(1000);
    const again = await reserve(id, [{ productId: p.id, quantity: 1 }, { productId: p.id, quantity: 3 }], 5000);
    expect(again).toEqual(first);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 4n });
    const reused = await domainFailure(reserve(id, [{ productId: p.id, quantity: 5 }]));
    expect([reused.kind, reused.reason]).toEqual(["INVALID_ARGUMENT", "IDEMPOTENCY_KEY_REUSED"]);
  });

  it("keeps the captured price when the catalog price changes later", async () => {
    const p = await f.product(5n, 100n);
    const r = await reserve(rid(), [{ productId: p.id, quantity: 1 }]);
    await f.uc.updateProduct(f.cx(), { productId: p.id, patch: { unitPrice: money("USD", 999n) } });
    expect((await f.uc.getReservation(f.cx(), r.id)).lines[0].unitPrice).toEqual(money("USD", 100n));
  });
});

describe("CommitReservation and ReleaseReservation", () => {
  it("commit sells the units; a repeat succeeds and changes nothing", async () => {
    const p = await f.product(10n);
    const r = await reserve(rid(), [{ productId: p.id, quantity: 3 }]);
    f.clock.advance(10);
    const c = await f.uc.commitReservation(f.cx(), r.id);
    expect([c.status, c.updateTime]).toEqual(["COMMITTED", f.clock.now]);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 7n, reserved: 0n });
    expect((await f.uc.commitReservation(f.cx(), r.id)).status).toBe("COMMITTED");
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 7n, reserved: 0n });
  });

  it("release of a pending reservation frees the hold; of a committed one restocks; repeats are no-ops", async () => {
    const p = await f.product(10n);
    const pending = await reserve(rid(), [{ productId: p.id, quantity: 2 }]);
    const sold = await reserve(rid(), [{ productId: p.id, quantity: 3 }]);
    await f.uc.commitReservation(f.cx(), sold.id);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 7n, reserved: 2n });
    expect((await f.uc.releaseReservation(f.cx(), { reservationId: pending.id, reason: "changed mind" })).status).toBe("RELEASED");
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 7n, reserved: 0n });
    expect((await f.uc.releaseReservation(f.cx(), { reservationId: sold.id, reason: "order cancelled" })).status).toBe("RELEASED");
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 0n });
    await f.uc.releaseReservation(f.cx(), { reservationId: sold.id, reason: "again" });
    await f.uc.releaseReservation(f.cx(), { reservationId: pending.id, reason: "again" });
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 0n });
  });

  it("a released reservation cannot be committed; unknown ids are NOT_FOUND", async () => {
    const p = await f.product(1n);
    const r = await reserve(rid(), [{ productId: p.id, quantity: 1 }]);
    await f.uc.releaseReservation(f.cx(), { reservationId: r.id, reason: "" });
    const e = await domainFailure(f.uc.commitReservation(f.cx(), r.id));
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "RESERVATION_RELEASED"]);
    const calls = [
      () => f.uc.commitReservation(f.cx(), "nope"),
      () => f.uc.releaseReservation(f.cx(), { reservationId: "nope", reason: "" }),
      () => f.uc.getReservation(f.cx(), "nope"),
    ];
    for (const call of calls) expect((await domainFailure(call())).reason).toBe("RESERVATION_NOT_FOUND");
  });
});

describe("expiry", () => {
  it("the sweep expires due reservations only, returning their stock once", async () => {
    const p = await f.product(10n);
    const short = await reserve(rid(), [{ productId: p.id, quantity: 2 }], 1000);
    const long = await reserve(rid(), [{ productId: p.id, quantity: 3 }], 3_600_000);
    f.clock.advance(1000);
    expect(await f.uc.expireReservations()).toBeGreaterThanOrEqual(1);
    expect((await f.uc.getReservation(f.cx(), short.id)).status).toBe("EXPIRED");
    expect((await f.uc.getReservation(f.cx(), long.id)).status).toBe("PENDING");
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 3n });
    expect(await f.uc.expireReservations()).toBe(0);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 3n });
    expect((await domainFailure(f.uc.commitReservation(f.cx(), short.id))).reason).toBe("RESERVATION_EXPIRED");
    expect((await f.uc.releaseReservation(f.cx(), { reservationId: short.id, reason: "" })).status).toBe("EXPIRED");
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 10n, reserved: 3n });
  });

  it("a due reservation not yet swept cannot be committed: it expires then and there, and the sweep finds nothing", async () => {
    const p = await f.product(5n);
    const r = await reserve(rid(), [{ productId: p.id, quantity: 4 }], 2000);
    f.clock.advance(2000);
    expect((await f.uc.getReservation(f.cx(), r.id)).status).toBe("EXPIRED");
    const e = await domainFailure(f.uc.commitReservation(f.cx(), r.id));
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "RESERVATION_EXPIRED"]);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 5n, reserved: 0n });
    await f.uc.expireReservations();
    await domainFailure(f.uc.commitReservation(f.cx(), r.id));
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 5n, reserved: 0n });
  });

  it("sweeps more reservations than one batch", async () => {
    const p = await f.product(1000n);
    for (let i = 0; i < 450; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => reserve(rid(), [{ productId: p.id, quantity: 2 }], 1000)));
    }
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 1000n, reserved: 900n });
    f.clock.advance(1000);
    expect(await f.uc.expireReservations()).toBe(450);
    expect(await f.stockOf(p.id)).toEqual({ stockOnHand: 1000n, reserved: 0n });
  });
});
