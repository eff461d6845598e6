/**
 * The payment table (domain/payment.ts), exhaustively: from every status,
 * every kind of report with amounts around every limit either is refused
 * (with the reason the amounts call for) or leads to a status the table
 * lists, with the amounts' invariants kept; every cell of the table is
 * reached by some report; the README's table is printed from it. Then the
 * order-level rules: a cancellation owes what was captured (a second
 * version, its own event), a capture after cancellation too, and
 * REQUIRE_CAPTURE_BEFORE_FULFILMENT.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import {
  applyPaymentReport,
  isPaymentRefusal,
  NEW_PAYMENT,
  PAYMENT_EVENT_KINDS,
  PAYMENT_STATUSES,
  PAYMENT_TRANSITIONS,
  paymentTableMarkdown,
  statusOf,
  type Payment,
  type PaymentEventKind,
  type PaymentStatus,
} from "../../../src/orders/domain/payment.js";
import { decide, isDecision, type ReportedPayment } from "../../../src/orders/domain/transition.js";
import { decided, orderFixture, T1 } from "./order-fixture.js";

/** A small total keeps the reachable payments few (every amount combination) and still crosses every limit. */
const TOTAL = 4n;
const meta = { at: T1, actor: "service:payments" };

/** Every payment reachable from NEW_PAYMENT by reports with amounts from a small set (breadth first). */
function reachable(): Payment[] {
  const amounts = [1n, 2n, 3n, 4n];
  const key = (p: Payment) => `${p.status}/${p.authorizedMinor}/${p.capturedMinor}/${p.refundedMinor}/${p.refundPendingMinor}`;
  const seen = new Map<string, Payment>([[key(NEW_PAYMENT), NEW_PAYMENT]]);
  const queue = [NEW_PAYMENT];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const kind of PAYMENT_EVENT_KINDS) {
      for (const amountMinor of kind === "VOIDED" || kind === "FAILED" ? [0n] : amounts) {
        const next = applyPaymentReport(p, { kind, amountMinor }, TOTAL);
        if (isPaymentRefusal(next) || seen.has(key(next))) continue;
        seen.set(key(next), next);
        queue.push(next);
      }
    }
  }
  return [...seen.values()];
}

const payments = reachable();

describe("the payment table", () => {
  it("reaches every status from a new order's payment", () => {
    expect(new Set(payments.map((p) => p.status))).toEqual(new Set(PAYMENT_STATUSES));
  });

  it("refuses a kind its row lacks, and otherwise leads only where the row says, keeping refunded ≤ captured ≤ authorized ≤ total", () => {
    const cells = new Set<string>();
    for (const p of payments) {
      for (const kind of PAYMENT_EVENT_KINDS) {
        for (const amountMinor of kind === "VOIDED" || kind === "FAILED" ? [0n] : [1n, 2n, 4n, 5n]) {
          const next = applyPaymentReport(p, { kind, amountMinor }, TOTAL);
          const row = PAYMENT_TRANSITIONS[p.status][kind];
          if (isPaymentRefusal(next)) {
            if (!row) expect(next.reason).toBe("ILLEGAL_PAYMENT_TRANSITION");
            else expect(next.reason, `${p.status} ${kind} ${amountMinor}`).toBe(expectedRefusal(p, kind, amountMinor));
            continue;
          }
          expect(row, `${p.status} took ${kind}`).toBeDefined();
          expect(row, `${p.status} --${kind}--> ${next.status}`).toContain(next.status);
          cells.add(`${p.status}/${kind}/${next.status}`);
          expect(0n <= next.refundedMinor && next.refundedMinor <= next.capturedMinor).toBe(true);
          expect(next.capturedMinor <= next.authorizedMinor && next.authorizedMinor <= TOTAL).toBe(true);
          expect(next.refundPendingMinor <= next.capturedMinor - next.refundedMinor).toBe(true);
        }
      }
    }
    // Every cell of the table is taken by some report: no dead entry.
    const listed = PAYMENT_STATUSES.flatMap((from) =>
      PAYMENT_EVENT_KINDS.flatMap((kind) => (PAYMENT_TRANSITIONS[from][kind] ?? []).map((to) => `${from}/${kind}/${to}`)),
    );
    expect([...cells].sort()).toEqual(listed.sort());
  });

  it("says the status the amounts say, except after FAILED and VOIDED reports", () => {
    for (const p of payments.filter((x) => x.status !== "FAILED" && x.status !== "VOIDED")) {
      expect(statusOf(p, TOTAL)).toBe(p.status);
    }
  });

  it("is README's payment table", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const block = /<!-- payments:start -->\n([\s\S]*?)\n<!-- payments:end -->/.exec(readme);
    expect(block?.[1]).toBe(paymentTableMarkdown());
  });
});

/** The refusal a report allowed by its row must get from the amounts, or undefined (accepted). */
function expectedRefusal(p: Payment, kind: PaymentEventKind, amount: bigint): string | undefined {
  switch (kind) {
    case "AUTHORIZED":
      return p.authorizedMinor + amount > TOTAL ? "PAYMENT_EXCEEDS_TOTAL" : undefined;
    case "CAPTURED":
      if (p.authorizedMinor === 0n) return amount > TOTAL ? "PAYMENT_EXCEEDS_TOTAL" : undefined;
      return p.capturedMinor + amount > p.authorizedMinor ? "CAPTURE_EXCEEDS_AUTHORIZED" : undefined;
    case "REFUNDED":
      return p.refundedMinor + amount > p.capturedMinor ? "REFUND_EXCEEDS_CAPTURED" : undefined;
    case "VOIDED":
      return p.authorizedMinor === p.capturedMinor ? "ILLEGAL_PAYMENT_TRANSITION" : undefined;
    case "FAILED":
      return undefined;
  }
}

const paid = (status: PaymentStatus, captured: bigint, refunded = 0n): Payment => ({
  status,
  authorizedMinor: 2500n,
  capturedMinor: captured,
  refundedMinor: refunded,
  refundPendingMinor: 0n,
});
const report = (kind: PaymentEventKind, amountMinor: bigint, eventId = "evt-1"): ReportedPayment => ({ kind, amountMinor, eventId, reason: "" });

describe("payments and the order", () => {
  it("a report is one change: the order's version + 1, its payment moved, a PAYMENT_REPORTED event", () => {
    const order = orderFixture("CONFIRMED");
    const d = decided(decide(order, { kind: "REPORT_PAYMENT", report: report("AUTHORIZED", 2500n) }, meta));
    expect(d.order.payment).toEqual({ ...NEW_PAYMENT, status: "AUTHORIZED", authorizedMinor: 2500n });
    expect(d.events.map((e) => [e.kind, e.order.version])).toEqual([["PAYMENT_REPORTED", order.version + 1]]);
    expect(d.changes).toEqual([]);
  });

  it("a refused report is FAILED_PRECONDITION naming the payment's status and the limit", () => {
    const order = orderFixture("CONFIRMED", { payment: paid("PARTIALLY_CAPTURED", 1000n) });
    const err = decide(order, { kind: "REPORT_PAYMENT", report: report("CAPTURED", 1501n) }, meta) as DomainError;
    expect(err).toBeInstanceOf(DomainError);
    expect([err.kind, err.reason, err.options.metadata]).toEqual([
      "FAILED_PRECONDITION",
      "CAPTURE_EXCEEDS_AUTHORIZED",
      { orderId: order.id, paymentStatus: "PARTIALLY_CAPTURED", kind: "CAPTURED", limitMinor: "1500" },
    ]);
  });

  it("cancelling an order with money captured owes it back: the cancellation, then the refund due, each its own version", () => {
    const order = orderFixture("PROCESSING", { payment: paid("PARTIALLY_REFUNDED", 2500n, 500n) });
    const d = decided(decide(order, { kind: "SET_STATUS", to: "CANCELLED", reason: "customer asked" }, meta));
    expect(d.events.map((e) => [e.kind, e.order.version, e.order.status])).toEqual([
      ["CHANGED", order.version + 1, "CANCELLED"],
      ["REFUND_DUE", order.version + 2, "CANCELLED"],
    ]);
    expect(d.events[0]!.order.payment.refundPendingMinor).toBe(0n);
    expect(d.events[1]).toMatchObject({ amountMinor: 2000n, reason: "order cancelled" });
    expect(d.order.payment.refundPendingMinor).toBe(2000n);
    expect(d.order.version).toBe(order.version + 2);
    expect(d.changes.map((c) => c.to)).toEqual(["CANCELLED"]);

    // The payment system refunds part, then the rest: what is pending goes down with each.
    const part = decided(decide(d.order, { kind: "REPORT_PAYMENT", report: report("REFUNDED", 1500n, "r1") }, meta));
    expect([part.order.payment.status, part.order.payment.refundPendingMinor]).toEqual(["PARTIALLY_REFUNDED", 500n]);
    const rest = decided(decide(part.order, { kind: "REPORT_PAYMENT", report: report("REFUNDED", 500n, "r2") }, meta));
    expect([rest.order.payment.status, rest.order.payment.refundPendingMinor]).toEqual(["REFUNDED", 0n]);
  });

  it("cancelling an unpaid order owes nothing: one change, as before payments", () => {
    const order = orderFixture("CONFIRMED", { payment: { ...NEW_PAYMENT, status: "AUTHORIZED", authorizedMinor: 2500n } });
    const d = decided(decide(order, { kind: "SET_STATUS", to: "CANCELLED", reason: "" }, meta));
    expect(d.events.map((e) => e.kind)).toEqual(["CHANGED"]);
    expect(d.order.payment.refundPendingMinor).toBe(0n);
  });

  it("money captured after the order was cancelled falls due at once", () => {
    const order = orderFixture("CANCELLED");
    const d = decided(decide(order, { kind: "REPORT_PAYMENT", report: report("CAPTURED", 2500n) }, meta));
    expect(d.events.map((e) => e.kind)).toEqual(["PAYMENT_REPORTED", "REFUND_DUE"]);
    expect(d.order.payment).toMatchObject({ status: "CAPTURED", capturedMinor: 2500n, refundPendingMinor: 2500n });
  });

  it("deleting an order with money captured: the refund due, then the deletion (which cancels)", () => {
    const order = orderFixture("CONFIRMED", { payment: paid("CAPTURED", 2500n) });
    const d = decided(decide(order, { kind: "DELETE", reason: "order deleted" }, meta));
    expect(d.events.map((e) => [e.kind, e.order.version, e.order.deleted])).toEqual([
      ["REFUND_DUE", order.version + 1, false],
      ["CHANGED", order.version + 2, true],
    ]);
    expect(d.changes.map((c) => c.to)).toEqual(["CANCELLED"]);
    expect(d.order).toMatchObject({ status: "CANCELLED", deleted: true });
  });

  it("REQUIRE_CAPTURE_BEFORE_FULFILMENT: PROCESSING and SHIPPED wait for the whole total; off, they do not", () => {
    const info = { carrier: "UPS", trackingNumber: "1Z" };
    for (const [from, to] of [["CONFIRMED", "PROCESSING"], ["PROCESSING", "SHIPPED"]] as const) {
      const authorised = orderFixture(from, { shippingInfo: info, payment: { ...paid("PARTIALLY_CAPTURED", 2499n) } });
      const err = decide(authorised, { kind: "SET_STATUS", to, reason: "", requireCapture: true }, meta) as DomainError;
      expect([err.kind, err.reason, err.options.metadata?.paymentStatus]).toEqual(["FAILED_PRECONDITION", "PAYMENT_NOT_CAPTURED", "PARTIALLY_CAPTURED"]);
      expect(isDecision(decide(authorised, { kind: "SET_STATUS", to, reason: "" }, meta))).toBe(true);
      const captured = { ...authorised, payment: paid("CAPTURED", 2500n) };
      expect(isDecision(decide(captured, { kind: "SET_STATUS", to, reason: "", requireCapture: true }, meta))).toBe(true);
    }
    // Cancelling is never held up by the payment.
    const unpaid = orderFixture("CONFIRMED");
    expect(isDecision(decide(unpaid, { kind: "SET_STATUS", to: "CANCELLED", reason: "", requireCapture: true }, meta))).toBe(true);
  });
});
