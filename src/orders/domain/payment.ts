/**
 * An order's payment, apart from its status. This service talks to no
 * payment provider: the payment system reports what happened
 * (ReportPayment) and the order's payment moves by PAYMENT_TRANSITIONS, the
 * one payment transition table: the domain decides with it, the tests
 * enumerate it and the README table is printed from it
 * (`paymentTableMarkdown`).
 *
 * Amounts are minor units of the order's currency, and always
 *   0 ≤ refunded ≤ captured ≤ authorized ≤ total,  0 ≤ refundPending ≤ captured − refunded.
 * The status follows from them (`statusOf`), except FAILED and VOIDED,
 * which say what the last report was when nothing is authorised.
 */
export const PAYMENT_STATUSES = [
  "PENDING",
  "AUTHORIZED",
  "PARTIALLY_CAPTURED",
  "CAPTURED",
  "PARTIALLY_REFUNDED",
  "REFUNDED",
  "VOIDED",
  "FAILED",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const PAYMENT_EVENT_KINDS = ["AUTHORIZED", "CAPTURED", "REFUNDED", "VOIDED", "FAILED"] as const;
export type PaymentEventKind = (typeof PAYMENT_EVENT_KINDS)[number];

/** The kinds that carry an amount (more than zero); VOIDED and FAILED carry none. */
export const hasAmount = (kind: PaymentEventKind): boolean => kind === "AUTHORIZED" || kind === "CAPTURED" || kind === "REFUNDED";

type Row = Readonly<Partial<Record<PaymentEventKind, readonly PaymentStatus[]>>>;
const row = (r: Partial<Record<PaymentEventKind, readonly PaymentStatus[]>>): Row => Object.freeze(r);

/** Where a payment can go again after nothing (or nothing any more) is authorised. */
const START: Partial<Record<PaymentEventKind, readonly PaymentStatus[]>> = {
  AUTHORIZED: ["AUTHORIZED"],
  CAPTURED: ["PARTIALLY_CAPTURED", "CAPTURED"],
  FAILED: ["FAILED"],
};

/**
 * From each status, the reports it accepts and the statuses each can lead
 * to (which one follows from the amounts). A report of a kind missing from
 * a status's row is ILLEGAL_PAYMENT_TRANSITION.
 */
export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentStatus, Row>> = Object.freeze({
  PENDING: row(START),
  FAILED: row(START),
  VOIDED: row(START),
  AUTHORIZED: row({ AUTHORIZED: ["AUTHORIZED"], CAPTURED: ["PARTIALLY_CAPTURED", "CAPTURED"], VOIDED: ["VOIDED"] }),
  // VOIDED here releases the rest of the authorisation; what was captured stays.
  PARTIALLY_CAPTURED: row({
    AUTHORIZED: ["PARTIALLY_CAPTURED"],
    CAPTURED: ["PARTIALLY_CAPTURED", "CAPTURED"],
    REFUNDED: ["PARTIALLY_REFUNDED", "REFUNDED"],
    VOIDED: ["PARTIALLY_CAPTURED"],
  }),
  CAPTURED: row({ REFUNDED: ["PARTIALLY_REFUNDED", "REFUNDED"] }),
  PARTIALLY_REFUNDED: row({ CAPTURED: ["PARTIALLY_REFUNDED"], REFUNDED: ["PARTIALLY_REFUNDED", "REFUNDED"], VOIDED: ["PARTIALLY_REFUNDED"] }),
  REFUNDED: row({}),
});

export interface Payment {
  readonly status: PaymentStatus;
  readonly authorizedMinor: bigint;
  readonly capturedMinor: bigint;
  readonly refundedMinor: bigint;
  /** Refund owed (a cancellation, a return) not yet reported REFUNDED. */
  readonly refundPendingMinor: bigint;
}

export const NEW_PAYMENT: Payment = Object.freeze({
  status: "PENDING",
  authorizedMinor: 0n,
  capturedMinor: 0n,
  refundedMinor: 0n,
  refundPendingMinor: 0n,
});

export interface PaymentReport {
  readonly kind: PaymentEventKind;
  /** Minor units of the order's currency; 0 for VOIDED and FAILED. */
  readonly amountMinor: bigint;
}

/** Why a report was refused; the caller turns it into the API's error. */
export type PaymentRefusal =
  | { readonly reason: "ILLEGAL_PAYMENT_TRANSITION" }
  | { readonly reason: "PAYMENT_EXCEEDS_TOTAL"; readonly limitMinor: bigint }
  | { readonly reason: "CAPTURE_EXCEEDS_AUTHORIZED"; readonly limitMinor: bigint }
  | { readonly reason: "REFUND_EXCEEDS_CAPTURED"; readonly limitMinor: bigint };

/** The status the amounts say (FAILED and VOIDED are set by their reports, not by amounts). */
export function statusOf(p: Omit<Payment, "status" | "refundPendingMinor">, totalMinor: bigint): PaymentStatus {
  if (p.refundedMinor > 0n) return p.refundedMinor === p.capturedMinor ? "REFUNDED" : "PARTIALLY_REFUNDED";
  if (p.capturedMinor > 0n) return p.capturedMinor >= totalMinor ? "CAPTURED" : "PARTIALLY_CAPTURED";
  if (p.authorizedMinor > 0n) return "AUTHORIZED";
  return "PENDING";
}

/**
 * The payment after `report`, or why it cannot take it. Pure: amounts are
 * checked against the order's total and against each other, and the new
 * status must be one the table allows for the report's kind.
 */
export function applyPaymentReport(p: Payment, report: PaymentReport, totalMinor: bigint): Payment | PaymentRefusal {
  const allowed = PAYMENT_TRANSITIONS[p.status][report.kind];
  if (!allowed) return { reason: "ILLEGAL_PAYMENT_TRANSITION" };
  const amount = report.amountMinor;
  let { authorizedMinor, capturedMinor, refundedMinor, refundPendingMinor } = p;
  switch (report.kind) {
    case "AUTHORIZED":
      if (authorizedMinor + amount > totalMinor) return { reason: "PAYMENT_EXCEEDS_TOTAL", limitMinor: totalMinor - authorizedMinor };
      authorizedMinor += amount;
      break;
    case "CAPTURED":
      // A one-step sale: nothing authorised, the capture authorises its own amount.
      if (authorizedMinor === 0n) {
        if (amount > totalMinor) return { reason: "PAYMENT_EXCEEDS_TOTAL", limitMinor: totalMinor };
        authorizedMinor = amount;
      } else if (capturedMinor + amount > authorizedMinor) {
        return { reason: "CAPTURE_EXCEEDS_AUTHORIZED", limitMinor: authorizedMinor - capturedMinor };
      }
      capturedMinor += amount;
      break;
    case "REFUNDED":
      if (refundedMinor + amount > capturedMinor) return { reason: "REFUND_EXCEEDS_CAPTURED", limitMinor: capturedMinor - refundedMinor };
      refundedMinor += amount;
      refundPendingMinor = refundPendingMinor > amount ? refundPendingMinor - amount : 0n;
      break;
    case "VOIDED":
      if (authorizedMinor === capturedMinor) return { reason: "ILLEGAL_PAYMENT_TRANSITION" }; // nothing left to void
      authorizedMinor = capturedMinor;
      break;
    case "FAILED":
      break;
  }
  const amounts = { authorizedMinor, capturedMinor, refundedMinor };
  let status = statusOf(amounts, totalMinor);
  if (report.kind === "FAILED") status = "FAILED";
  else if (report.kind === "VOIDED" && capturedMinor === 0n) status = "VOIDED";
  // The table is the contract: a status it does not list for this kind is a bug here, not the caller's.
  if (!allowed.includes(status)) throw new Error(`payment table has no ${p.status} --${report.kind}--> ${status}`);
  return { status, ...amounts, refundPendingMinor };
}

export function isPaymentRefusal(x: Payment | PaymentRefusal): x is PaymentRefusal {
  return "reason" in x;
}

/** What a cancellation now owes the customer: captured, not refunded, not already owed. */
export function refundNowDue(p: Payment): bigint {
  const owed = p.capturedMinor - p.refundedMinor - p.refundPendingMinor;
  return owed > 0n ? owed : 0n;
}

/** Fully captured: what REQUIRE_CAPTURE_BEFORE_FULFILMENT asks before fulfilment starts. */
export function isFullyCaptured(p: Payment, totalMinor: bigint): boolean {
  return p.capturedMinor >= totalMinor;
}

export function isPaymentStatus(value: string): value is PaymentStatus {
  return (PAYMENT_STATUSES as readonly string[]).includes(value);
}

/** The table as Markdown, for the README. */
export function paymentTableMarkdown(): string {
  const head = `| from | ${PAYMENT_EVENT_KINDS.join(" | ")} |`;
  const rule = `| --- | ${PAYMENT_EVENT_KINDS.map(() => "---").join(" | ")} |`;
  const rows = PAYMENT_STATUSES.map(
    (s) => `| ${s} | ${PAYMENT_EVENT_KINDS.map((k) => PAYMENT_TRANSITIONS[s][k]?.join(", ") ?? "—").join(" | ")} |`,
  );
  return [head, rule, ...rows].join("\n");
}
