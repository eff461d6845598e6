/**
 * The pure transition function: the current order and a command in, the new
 * order and its history entries (or a DomainError) out. Every mutation of an
 * existing order goes through `decide`; repositories only persist the result.
 */
import type { DomainError } from "../../kernel/errors.js";
import {
  illegalTransition,
  orderFinalized,
  paymentNotCaptured,
  paymentRefused,
  shippingInfoRequired,
  stockNotSold,
} from "./order-errors.js";
import { canTransition, holdsStock, isFinal, type OrderStatus } from "./order-status.js";
import type { Order, ReservationState, ShippingInfo, StatusChange } from "./order.js";
import { applyPaymentReport, isFullyCaptured, isPaymentRefusal, refundNowDue, type PaymentReport } from "./payment.js";

/** A payment report as the order keeps it (its event says it). */
export interface ReportedPayment extends PaymentReport {
  /** The provider's event id: the report's idempotency key. */
  readonly eventId: string;
  readonly reason: string;
}

export type OrderCommand =
  | {
      readonly kind: "SET_STATUS";
      readonly to: OrderStatus;
      readonly reason: string;
      /** REQUIRE_CAPTURE_BEFORE_FULFILMENT: PROCESSING and SHIPPED need the whole total captured. */
      readonly requireCapture?: boolean;
    }
  | { readonly kind: "SET_SHIPPING_INFO"; readonly info: ShippingInfo }
  | { readonly kind: "DELETE"; readonly reason: string }
  | { readonly kind: "REPORT_PAYMENT"; readonly report: ReportedPayment };

export interface ChangeMeta {
  readonly at: Date;
  readonly actor: string;
}

/**
 * One change within a decision: the order after it (its own version) and
 * what its event says. A decision usually makes one; a cancellation of an
 * order with money captured makes two (the cancellation, then the refund
 * that falls due), committed together.
 */
export type DecidedEvent =
  /** Created, status, cancelled, deleted or shipping info: the event type follows from the order and its changes. */
  | { readonly kind: "CHANGED"; readonly order: Order; readonly changes: readonly StatusChange[] }
  | { readonly kind: "PAYMENT_REPORTED"; readonly order: Order; readonly report: ReportedPayment; readonly actor: string }
  | { readonly kind: "REFUND_DUE"; readonly order: Order; readonly amountMinor: bigint; readonly reason: string };

/** The outcome of a command that is allowed. `changed: false` means nothing to write. */
export interface Decision {
  /** The order after every change (the last event's). */
  readonly order: Order;
  /** The status changes, oldest first: the history rows to write. */
  readonly changes: readonly StatusChange[];
  readonly changed: boolean;
  /** One per new version, oldest first; empty when nothing changed. */
  readonly events: readonly DecidedEvent[];
}

/** A change before its version is known. */
type Step = DecidedEvent;

export function decide(order: Order, cmd: OrderCommand, meta: ChangeMeta): Decision | DomainError {
  const steps = apply(order, cmd, meta);
  if (!Array.isArray(steps)) return steps;
  if (steps.length === 0) return unchanged(order);
  // Each step is a version: numbered from the order's, all stamped with this change's time.
  const events = steps.map((e, i) => ({ ...e, order: { ...e.order, version: order.version + i + 1, updateTime: meta.at } }));
  return {
    order: events[events.length - 1]!.order,
    changes: events.flatMap((e) => (e.kind === "CHANGED" ? e.changes : [])),
    changed: true,
    events,
  };
}

export function isDecision(outcome: Decision | DomainError): outcome is Decision {
  return "changed" in outcome;
}

export const unchanged = (order: Order): Decision => ({ order, changes: [], changed: false, events: [] });

function apply(order: Order, cmd: OrderCommand, meta: ChangeMeta): Step[] | DomainError {
  switch (cmd.kind) {
    case "SET_STATUS":
      return setStatus(order, cmd.to, cmd.reason, meta, cmd.requireCapture ?? false);
    case "SET_SHIPPING_INFO":
      return setShippingInfo(order, cmd.info);
    case "DELETE":
      return remove(order, cmd.reason, meta);
    case "REPORT_PAYMENT":
      return reportPayment(order, cmd.report, meta);
  }
}

function setStatus(order: Order, to: OrderStatus, reason: string, meta: ChangeMeta, requireCapture: boolean): Step[] | DomainError {
  if (order.status === to) return [];
  if (!canTransition(order.status, to)) return illegalTransition(order.id, order.status, to);
  if (to === "SHIPPED" && !order.shippingInfo) return shippingInfoRequired(order.id);
  // An order is acknowledged only once sold: the sale comes first (ReservationSettler.confirm).
  if (to === "CONFIRMED" && order.reservationState !== "COMMITTED") return stockNotSold(order.id);
  if (requireCapture && (to === "PROCESSING" || to === "SHIPPED") && !isFullyCaptured(order.payment, order.total.amountMinor)) {
    return paymentNotCaptured(order.id, order.payment.status, to);
  }
  const change: StatusChange = { from: order.status, to, reason, actor: meta.actor, at: meta.at };
  const reservationState = to === "CANCELLED" ? releaseOf(order.reservationState) : order.reservationState;
  const after: Order = { ...order, status: to, reservationState, history: [...order.history, change] };
  const steps: Step[] = [{ kind: "CHANGED", order: after, changes: [change] }];
  if (to === "CANCELLED") steps.push(...refundDue(after, "order cancelled"));
  return steps;
}

/** Money captured on a cancelled order and not yet owed: owed now, as its own change. */
function refundDue(order: Order, reason: string): Step[] {
  const amountMinor = refundNowDue(order.payment);
  if (amountMinor === 0n) return [];
  const payment = { ...order.payment, refundPendingMinor: order.payment.refundPendingMinor + amountMinor };
  return [{ kind: "REFUND_DUE", order: { ...order, payment }, amountMinor, reason }];
}

function reportPayment(order: Order, report: ReportedPayment, meta: ChangeMeta): Step[] | DomainError {
  const payment = applyPaymentReport(order.payment, report, order.total.amountMinor);
  if (isPaymentRefusal(payment)) return paymentRefused(order.id, order.payment.status, report.kind, payment);
  const after: Order = { ...order, payment };
  const steps: Step[] = [{ kind: "PAYMENT_REPORTED", order: after, report, actor: meta.actor }];
  // Money captured after the order was cancelled goes straight back.
  if (order.status === "CANCELLED") steps.push(...refundDue(after, "captured after the order was cancelled"));
  return steps;
}

function setShippingInfo(order: Order, info: ShippingInfo): Step[] | DomainError {
  if (isFinal(order.status)) return orderFinalized(order.id, order.status);
  const current = order.shippingInfo;
  if (current?.carrier === info.carrier && current.trackingNumber === info.trackingNumber) return [];
  return [{ kind: "CHANGED", order: { ...order, shippingInfo: { ...info } }, changes: [] }];
}

/**
 * An order still holding stock is cancelled first, so deleting never leaks
 * stock; a refund falling due with that cancellation is its own change (and
 * event) before the deletion's.
 */
function remove(order: Order, reason: string, meta: ChangeMeta): Step[] | DomainError {
  let steps: Step[] = [];
  if (holdsStock(order.status)) {
    const cancelled = setStatus(order, "CANCELLED", reason, meta, false);
    if (!Array.isArray(cancelled)) return cancelled;
    steps = cancelled;
  }
  // The cancellation and the deletion are one change (OrderDeleted), as before refunds existed; a refund due comes first.
  const [cancel, ...refund] = steps;
  const last = steps.length > 0 ? steps[steps.length - 1]!.order : order;
  const changes = cancel?.kind === "CHANGED" ? cancel.changes : [];
  return [...refund, { kind: "CHANGED", order: { ...last, deleted: true }, changes }];
}

function releaseOf(state: ReservationState): ReservationState {
  return state === "PENDING" || state === "COMMITTED" ? "RELEASE_PENDING" : state;
}
