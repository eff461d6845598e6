import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { transitionQuantities } from "../../../src/inventory/domain/lifecycle.js";
import { money } from "../../../src/inventory/domain/money.js";
import type { Reservation, ReservationStatus } from "../../../src/inventory/domain/reservation.js";
import { ensureSameReturn, newReturnRequest, planReturn, type ReturnInput } from "../../../src/inventory/domain/stock-return.js";

const A = "aaaaaaaa-0000-4000-8000-00000000000a";
const B = "bbbbbbbb-0000-4000-8000-00000000000b";
const C = "cccccccc-0000-4000-8000-00000000000c";
const at = new Date("2030-01-01T00:00:00Z");
const usd = money("USD", 100n);

const reservation = (status: ReservationStatus = "COMMITTED", expireTime = new Date(at.getTime() + 60_000)): Reservation => ({
  id: "r1",
  status,
  lines: [
    { productId: A, quantity: 5, unitPrice: usd, returnedQuantity: 1 },
    { productId: B, quantity: 2, unitPrice: usd },
  ],
  expireTime,
  createTime: at,
  updateTime: at,
});

const request = (lines: ReturnInput["lines"], over: Partial<ReturnInput> = {}) =>
  newReturnRequest("service:orders", { reservationId: "r1", returnId: "rma-1", lines, reason: "", ...over }, at);

const thrown = (run: () => unknown): DomainError => {
  try {
    run();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("planReturn", () => {
  it("adds the returned units to their lines, up to what was sold; other lines stay as they were", () => {
    const lines = planReturn(reservation(), request([{ productId: A.toUpperCase(), quantity: 2 }, { productId: A, quantity: 2 }]));
    expect(lines).toEqual([
      { productId: A, quantity: 5, unitPrice: usd, returnedQuantity: 5 },
      { productId: B, quantity: 2, unitPrice: usd },
    ]);
  });

  it("refuses more than sold minus returned, and products not sold, one violation each", () => {
    const e = thrown(() => planReturn(reservation(), request([{ productId: A, quantity: 5 }, { productId: B, quantity: 2 }, { productId: C, quantity: 1 }])));
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "RETURN_EXCEEDS_SOLD"]);
    expect(e.options.preconditionViolations).toEqual([
      { type: "RETURN_EXCEEDS_SOLD", subject: `products/${A}`, description: "returning 5, sold 5, already returned 1" },
      { type: "RETURN_EXCEEDS_SOLD", subject: `products/${C}`, description: "returning 1, the reservation did not sell this product" },
    ]);
    expect(e.options.metadata).toEqual({ reservationId: "r1", returnId: "rma-1", productIds: `${A},${C}` });
  });

  it("takes returns only of a committed reservation", () => {
    expect(thrown(() => planReturn(reservation("PENDING"), request([{ productId: A, quantity: 1 }]))).reason).toBe("RESERVATION_NOT_COMMITTED");
    expect(thrown(() => planReturn(reservation("PENDING", at), request([{ productId: A, quantity: 1 }]))).reason).toBe("RESERVATION_EXPIRED");
    expect(thrown(() => planReturn(reservation("EXPIRED"), request([{ productId: A, quantity: 1 }]))).reason).toBe("RESERVATION_EXPIRED");
    expect(thrown(() => planReturn(reservation("RELEASED"), request([{ productId: A, quantity: 1 }]))).reason).toBe("RESERVATION_RELEASED");
  });
});

describe("ensureSameReturn", () => {
  it("accepts the same merged lines and reason; names the field that differs otherwise", () => {
    const recorded = { lines: [{ productId: A, quantity: 2 }], reason: "damaged" };
    expect(() => ensureSameReturn(recorded, request([{ productId: A, quantity: 1 }, { productId: A, quantity: 1 }], { reason: "damaged" }))).not.toThrow();
    const lines = thrown(() => ensureSameReturn(recorded, request([{ productId: A, quantity: 3 }], { reason: "damaged" })));
    expect([lines.kind, lines.reason, lines.options.fieldViolations?.map((v) => v.field)]).toEqual(["INVALID_ARGUMENT", "IDEMPOTENCY_KEY_REUSED", ["lines"]]);
    const reason = thrown(() => ensureSameReturn(recorded, request([{ productId: A, quantity: 2 }], { reason: "other" })));
    expect(reason.options.fieldViolations?.map((v) => v.field)).toEqual(["reason"]);
  });
});

describe("transitionQuantities", () => {
  it("moves each line's units not returned, none of a line returned in full", () => {
    const lines = [
      { productId: B, quantity: 2, unitPrice: usd, returnedQuantity: 2 },
      { productId: A, quantity: 5, unitPrice: usd, returnedQuantity: 1 },
      { productId: C, quantity: 3, unitPrice: usd },
    ];
    expect(transitionQuantities(lines)).toEqual([
      [A, 4n],
      [C, 3n],
    ]);
  });
});
