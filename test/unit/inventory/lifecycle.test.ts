import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import {
  ensureCommitted,
  planCommit,
  planRelease,
  quantitiesByProduct,
  stockMoveOf,
} from "../../../src/inventory/domain/lifecycle.js";
import type { Reservation, ReservationStatus } from "../../../src/inventory/domain/reservation.js";

const t0 = new Date("2030-01-01T00:00:00Z");
const before = new Date(t0.getTime() - 1);
const r = (status: ReservationStatus): Reservation => ({
  id: "r1",
  status,
  lines: [],
  expireTime: t0,
  createTime: t0,
  updateTime: t0,
});

const reasonOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (e) {
    return e instanceof DomainError ? `${e.kind} ${e.reason}` : String(e);
  }
};

describe("planCommit", () => {
  it("commits a pending reservation before its expire time, expires it from then on", () => {
    expect(planCommit(before)(r("PENDING"))).toBe("COMMITTED");
    expect(planCommit(t0)(r("PENDING"))).toBe("EXPIRED");
  });

  it("is a no-op on a committed reservation and refuses released or expired ones", () => {
    expect(planCommit(before)(r("COMMITTED"))).toBeUndefined();
    expect(reasonOf(() => planCommit(before)(r("RELEASED")))).toBe("FAILED_PRECONDITION RESERVATION_RELEASED");
    expect(reasonOf(() => planCommit(before)(r("EXPIRED")))).toBe("FAILED_PRECONDITION RESERVATION_EXPIRED");
  });

  it("ensureCommitted turns the outcome into the caller's answer", () => {
    expect(ensureCommitted(r("COMMITTED")).status).toBe("COMMITTED");
    expect(reasonOf(() => ensureCommitted(r("EXPIRED")))).toBe("FAILED_PRECONDITION RESERVATION_EXPIRED");
  });
});

describe("planRelease", () => {
  it("releases pending (or expires a due one) and committed; leaves released and expired alone", () => {
    expect(planRelease(before)(r("PENDING"))).toBe("RELEASED");
    expect(planRelease(t0)(r("PENDING"))).toBe("EXPIRED");
    expect(planRelease(t0)(r("COMMITTED"))).toBe("RELEASED");
    expect(planRelease(t0)(r("RELEASED"))).toBeUndefined();
    expect(planRelease(t0)(r("EXPIRED"))).toBeUndefined();
  });
});

describe("stockMoveOf", () => {
  it("maps each transition to how stock moves and rejects the rest", () => {
    expect(stockMoveOf("PENDING", "COMMITTED")).toBe("SELL");
    expect(stockMoveOf("PENDING", "RELEASED")).toBe("RELEASE_HOLD");
    expect(stockMoveOf("PENDING", "EXPIRED")).toBe("RELEASE_HOLD");
    expect(stockMoveOf("COMMITTED", "RELEASED")).toBe("RESTOCK");
    expect(() => stockMoveOf("RELEASED", "PENDING")).toThrow();
    expect(() => stockMoveOf("COMMITTED", "EXPIRED")).toThrow();
  });
});

describe("quantitiesByProduct", () => {
  it("sums quantities per product across reservations, ordered by id", () => {
    expect(
      quantitiesByProduct([
        { productId: "b", quantity: 2 },
        { productId: "a", quantity: 1 },
        { productId: "b", quantity: 3 },
      ]),
    ).toEqual([
      ["a", 1n],
      ["b", 5n],
    ]);
  });
});
