import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { money } from "../../../src/inventory/domain/money.js";
import {
  asSeenAt,
  holdsSameLines,
  isDue,
  mergeLines,
  newReservationRequest,
  repeatOf,
  type Reservation,
} from "../../../src/inventory/domain/reservation.js";

const A = "aaaaaaaa-0000-4000-8000-00000000000a";
const B = "bbbbbbbb-0000-4000-8000-00000000000b";
const at = new Date("2030-01-01T00:00:00Z");

const reservation = (over: Partial<Reservation> = {}): Reservation => ({
  id: "r1",
  status: "PENDING",
  lines: [{ productId: A, quantity: 3, unitPrice: money("USD", 100n) }],
  expireTime: new Date(at.getTime() + 60_000),
  createTime: at,
  updateTime: at,
  ...over,
});

describe("mergeLines", () => {
  it("sums lines naming the same product (any case) and orders them by product id", () => {
    const merged = mergeLines([
      { productId: B, quantity: 1 },
      { productId: A.toUpperCase(), quantity: 2 },
      { productId: A, quantity: 5 },
    ]);
    expect(merged).toEqual([
      { productId: A, quantity: 7 },
      { productId: B, quantity: 1 },
    ]);
  });
});

describe("newReservationRequest", () => {
  it("uses the request's TTL, or the default when it names none", () => {
    const lines = [{ productId: A, quantity: 1 }];
    expect(newReservationRequest("service:orders", { reservationId: "x", lines, ttlMs: 5000 }, at, 900_000).expireTime).toEqual(
      new Date(at.getTime() + 5000),
    );
    expect(newReservationRequest("service:orders", { reservationId: "x", lines }, at, 900_000).expireTime).toEqual(
      new Date(at.getTime() + 900_000),
    );
  });
});

describe("idempotent repeats", () => {
  it("the same lines in another order or split differently are the same request", () => {
    const r = reservation();
    expect(holdsSameLines(r, [{ productId: A, quantity: 1 }, { productId: A, quantity: 2 }])).toBe(true);
    expect(holdsSameLines(r, [{ productId: A, quantity: 4 }])).toBe(false);
    expect(holdsSameLines(r, [{ productId: A, quantity: 3 }, { productId: B, quantity: 1 }])).toBe(false);
  });

  it("repeatOf returns the stored reservation, or fails IDEMPOTENCY_KEY_REUSED on other lines", () => {
    const r = reservation();
    const same = newReservationRequest("service:orders", { reservationId: "r1", lines: [{ productId: A, quantity: 3 }] }, at, 1000);
    expect(repeatOf(r, same)).toBe(r);
    const other = newReservationRequest("service:orders", { reservationId: "r1", lines: [{ productId: B, quantity: 3 }] }, at, 1000);
    const err = (() => {
      try {
        repeatOf(r, other);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ kind: "INVALID_ARGUMENT", reason: "IDEMPOTENCY_KEY_REUSED" });
  });
});

describe("expiry as seen by callers", () => {
  it("a pending reservation is due from its expire time on, and then shows as EXPIRED", () => {
    const r = reservation();
    expect(isDue(r, new Date(r.expireTime.getTime() - 1))).toBe(false);
    expect(isDue(r, r.expireTime)).toBe(true);
    expect(asSeenAt(r, r.expireTime).status).toBe("EXPIRED");
    expect(asSeenAt(r, at)).toBe(r);
  });

  it("only pending reservations expire", () => {
    const late = new Date(at.getTime() + 3_600_000);
    for (const status of ["COMMITTED", "RELEASED", "EXPIRED"] as const) {
      expect(asSeenAt(reservation({ status }), late).status).toBe(status);
    }
  });
});
