import { expect } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import type { Order } from "../../../src/orders/domain/order.js";
import { isDecision, type Decision } from "../../../src/orders/domain/transition.js";
import type { OrderStatus } from "../../../src/orders/domain/order-status.js";
import { NEW_PAYMENT } from "../../../src/orders/domain/payment.js";

export const T0 = new Date("2024-05-01T10:00:00.000Z");
export const T1 = new Date("2024-05-01T11:00:00.000Z");

export function orderFixture(status: OrderStatus, overrides: Partial<Order> = {}): Order {
  const unit = { currency: "EUR", amountMinor: 1250n };
  return {
    id: "7d5c1f3e-9a2b-5c4d-8e6f-0a1b2c3d4e5f",
    number: "100001",
    customerId: "11111111-1111-4111-8111-111111111111",
    requestId: "req-1",
    status,
    lines: [{ productId: "p", variantId: "", quantity: 2, unitPrice: unit, lineTotal: { ...unit, amountMinor: 2500n } }],
    total: { currency: "EUR", amountMinor: 2500n },
    shippingAddress: undefined,
    shippingInfo: undefined,
    history: [{ from: undefined, to: status === "PENDING" ? "PENDING" : "CONFIRMED", reason: "", actor: "", at: T0 }],
    payment: NEW_PAYMENT,
    shipments: [],
    restocks: [],
    returns: [],
    customerNote: "",
    staffNotes: [],
    tags: [],
    metadata: {},
    version: 3,
    createTime: T0,
    updateTime: T0,
    reservationId: "order-x",
    reservationState: status === "CANCELLED" ? "RELEASED" : status === "PENDING" ? "PENDING" : "COMMITTED",
    deleted: false,
    ...overrides,
  };
}

/** The decision, or the test fails with the refusal. */
export const decided = (d: Decision | DomainError): Decision => {
  if (!isDecision(d)) throw d;
  return d;
};

/** The refusal (the test fails on a decision). */
export const refused = (d: Decision | DomainError): DomainError => {
  expect(d).toBeInstanceOf(DomainError);
  return d as DomainError;
};
