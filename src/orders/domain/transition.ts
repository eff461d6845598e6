/**
 * The pure transition function: the current order and a command in, the new
 * order and its history entries (or a DomainError) out. Every mutation of an
 * existing order goes through `decide`; repositories only persist the result.
 */
import { DomainError } from "../../kernel/errors.js";
import { addNote, updateMetadata, updateTags, type StaffNote } from "./annotations.js";
import {
  canShipmentTransition,
  fulfilmentStatusOf,
  orderedUnits,
  shipmentIdFor,
  shortcutShipmentIdFor,
  unassigned,
  unitsIn,
  type Restock,
  type Shipment,
  type ShipmentLine,
  type ShipmentStatus,
} from "./fulfilment.js";
import { canReturnTransition, lastDelivery, refundOf, returnable, returnIdFor, type Return, type ReturnStatus } from "./returns.js";
import {
  illegalReturnTransition,
  illegalShipmentTransition,
  illegalTransition,
  lineNotFound,
  lineRepeated,
  orderFinalized,
  orderPartiallyShipped,
  shippingInfoNotAllowed,
  returnExceedsDelivered,
  returnNotFound,
  returnRequestReused,
  returnWindowClosed,
  shipmentExceedsOrdered,
  shipmentNotFound,
  shipmentRequestReused,
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
  | { readonly kind: "REPORT_PAYMENT"; readonly report: ReportedPayment }
  | {
      readonly kind: "CREATE_SHIPMENT";
      readonly requestId: string;
      readonly lines: readonly ShipmentLine[];
      readonly shippingInfo: ShippingInfo | undefined;
      readonly requireCapture?: boolean;
    }
  | { readonly kind: "CANCEL_UNSHIPPED"; readonly reason: string }
  | {
      readonly kind: "REQUEST_RETURN";
      readonly requestId: string;
      readonly lines: readonly ShipmentLine[];
      readonly reason: string;
      /** RETURN_WINDOW_DAYS for a customer's request; undefined for staff (no window). */
      readonly windowDays: number | undefined;
    }
  | { readonly kind: "SET_RETURN_STATUS"; readonly returnId: string; readonly to: ReturnStatus; readonly reason: string }
  | {
      readonly kind: "SET_SHIPMENT_STATUS";
      readonly shipmentId: string;
      readonly to: ShipmentStatus;
      readonly shippingInfo: ShippingInfo | undefined;
      readonly reason: string;
    }
  /** Staff notes, tags and metadata (domain/annotations.ts): allowed on final orders too. */
  | { readonly kind: "ADD_NOTE"; readonly requestId: string; readonly text: string }
  | { readonly kind: "UPDATE_TAGS"; readonly add: readonly string[]; readonly remove: readonly string[] }
  | { readonly kind: "UPDATE_METADATA"; readonly set: Readonly<Record<string, string>>; readonly remove: readonly string[] };

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
export type DecidedChange =
  /** Created, status, cancelled, deleted or shipping info: the event type follows from the order and its changes. */
  | { readonly kind: "CHANGED"; readonly order: Order; readonly changes: readonly StatusChange[] }
  | { readonly kind: "PAYMENT_REPORTED"; readonly order: Order; readonly report: ReportedPayment; readonly actor: string }
  | { readonly kind: "REFUND_DUE"; readonly order: Order; readonly amountMinor: bigint; readonly reason: string }
  /** A return requested or moved. */
  | { readonly kind: "RETURN"; readonly order: Order; readonly ret: Return; readonly reason: string }
  /** The unshipped rest cancelled: its stock to return (`restock`), the status changes it caused. */
  | { readonly kind: "UNSHIPPED_CANCELLED"; readonly order: Order; readonly restock: Restock; readonly changes: readonly StatusChange[] }
  /** Shipments created or moved, and the order's status changes they caused. */
  | { readonly kind: "SHIPMENT"; readonly order: Order; readonly shipments: readonly Shipment[]; readonly changes: readonly StatusChange[] }
  | { readonly kind: "NOTE_ADDED"; readonly order: Order; readonly note: StaffNote }
  /** The tags that came and went (sorted). */
  | { readonly kind: "TAGS_CHANGED"; readonly order: Order; readonly added: readonly string[]; readonly removed: readonly string[]; readonly actor: string }
  /** The keys set to a new value and the keys removed (sorted). */
  | {
      readonly kind: "METADATA_CHANGED";
      readonly order: Order;
      readonly setKeys: readonly string[];
      readonly removedKeys: readonly string[];
      readonly actor: string;
    };

/** A change as decided: numbered (its order's version) and stamped with who made it (for its timeline entry). */
export type DecidedEvent = DecidedChange & { readonly actor: string };

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
type Step = DecidedChange;

export function decide(order: Order, cmd: OrderCommand, meta: ChangeMeta): Decision | DomainError {
  const steps = apply(order, cmd, meta);
  if (!Array.isArray(steps)) return steps;
  if (steps.length === 0) return unchanged(order);
  // Each step is a version: numbered from the order's, all stamped with this change's time.
  const events: DecidedEvent[] = steps.map((e, i) => ({
    ...e,
    actor: meta.actor,
    order: { ...e.order, version: order.version + i + 1, updateTime: meta.at },
  }));
  return {
    order: events[events.length - 1]!.order,
    changes: events.flatMap((e) => ("changes" in e ? e.changes : [])),
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
    case "CREATE_SHIPMENT":
      return createShipment(order, cmd, meta);
    case "SET_SHIPMENT_STATUS":
      return setShipmentStatus(order, cmd, meta);
    case "CANCEL_UNSHIPPED":
      return cancelUnshipped(order, cmd.reason, meta);
    case "REQUEST_RETURN":
      return requestReturn(order, cmd, meta);
    case "SET_RETURN_STATUS":
      return setReturnStatus(order, cmd, meta);
    case "ADD_NOTE":
      return addNote(order, cmd.requestId, cmd.text, meta);
    case "UPDATE_TAGS":
      return updateTags(order, cmd.add, cmd.remove, meta);
    case "UPDATE_METADATA":
      return updateMetadata(order, cmd.set, cmd.remove, meta);
  }
}

function setStatus(order: Order, to: OrderStatus, reason: string, meta: ChangeMeta, requireCapture: boolean): Step[] | DomainError {
  if (order.status === to) return [];
  if (!canTransition(order.status, to)) return illegalTransition(order.id, order.status, to);
  // An order is acknowledged only once sold: the sale comes first (ReservationSettler.confirm).
  if (to === "CONFIRMED" && order.reservationState !== "COMMITTED") return stockNotSold(order.id);
  if (requireCapture && (to === "PROCESSING" || to === "SHIPPED") && !isFullyCaptured(order.payment, order.total.amountMinor)) {
    return paymentNotCaptured(order.id, order.payment.status, to);
  }
  if (to === "CANCELLED" && order.shipments.some((sh) => sh.status === "SHIPPED" || sh.status === "DELIVERED")) {
    return orderPartiallyShipped(order.id, order.status);
  }
  const change: StatusChange = { from: order.status, to, reason, actor: meta.actor, at: meta.at };
  const reservationState = to === "CANCELLED" ? releaseOf(order.reservationState) : order.reservationState;
  const shipments = shipmentsFor(order, to, meta);
  if (shipments instanceof DomainError) return shipments;
  // The order's shipping info is the latest parcel's when it had none (the shortcut shipped parcels with their own).
  const shippingInfo = order.shippingInfo ?? (to === "SHIPPED" ? [...shipments].reverse().find((sh) => sh.shippingInfo)?.shippingInfo : undefined);
  const after: Order = { ...order, status: to, reservationState, shipments, shippingInfo, history: [...order.history, change] };
  const steps: Step[] = [{ kind: "CHANGED", order: after, changes: [change] }];
  if (to === "CANCELLED") steps.push(...refundDue(after, "order cancelled"));
  return steps;
}

/**
 * Money captured on a cancelled order (or, with `upToMinor`, that much of
 * it: the value of units cancelled) and not yet owed: owed now, as its own change.
 */
function refundDue(order: Order, reason: string, upToMinor?: bigint): Step[] {
  const owed = refundNowDue(order.payment);
  const amountMinor = upToMinor !== undefined && upToMinor < owed ? upToMinor : owed;
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

/**
 * The one-shipment shortcut (UpdateOrderStatus): SHIPPED ships every PENDING
 * shipment and puts every unit not yet in one into a new shipment, both with
 * the order's shipping info where they have none; DELIVERED delivers every
 * SHIPPED shipment; CANCELLED cancels the PENDING ones.
 */
function shipmentsFor(order: Order, to: OrderStatus, meta: ChangeMeta): readonly Shipment[] | DomainError {
  const at = meta.at;
  switch (to) {
    case "SHIPPED": {
      const info = order.shippingInfo;
      const out: Shipment[] = [];
      for (const sh of order.shipments) {
        if (sh.status !== "PENDING") out.push(sh);
        else if (!sh.shippingInfo && !info) return shippingInfoRequired(order.id);
        else out.push({ ...sh, status: "SHIPPED", shippingInfo: sh.shippingInfo ?? info, shipTime: at });
      }
      const rest = unassigned(orderedUnits(order), out);
      const lines = rest.flatMap((q, i) => (q > 0 ? [{ lineNo: i + 1, quantity: q }] : []));
      if (lines.length > 0 && !info) return shippingInfoRequired(order.id);
      if (lines.length > 0) {
        // No request id: clients' are 1 to 128 characters, and the id is in the shortcut's own namespace.
        out.push({
          id: shortcutShipmentIdFor(order.id, order.version + 1),
          requestId: "",
          status: "SHIPPED",
          lines,
          shippingInfo: info,
          createTime: at,
          shipTime: at,
          deliverTime: undefined,
        });
      }
      return out;
    }
    case "DELIVERED":
      return order.shipments.map((sh) => (sh.status === "SHIPPED" ? { ...sh, status: "DELIVERED" as const, deliverTime: at } : sh));
    case "CANCELLED":
      return order.shipments.map((sh) => (sh.status === "PENDING" ? { ...sh, status: "CANCELLED" as const } : sh));
    default:
      return order.shipments;
  }
}

type CreateShipmentCommand = Extract<OrderCommand, { kind: "CREATE_SHIPMENT" }>;

/** Whether a CreateShipment repeats the one that made one of the order's shipments; IDEMPOTENCY_KEY_REUSED when its request id made other lines. */
function repeatedShipment(order: Order, requestId: string, lines: readonly ShipmentLine[]): boolean | DomainError {
  const id = shipmentIdFor(order.id, requestId);
  const found = order.shipments.find((sh) => sh.id === id);
  if (!found) return false;
  return linesKey(found.lines) === linesKey(lines) ? true : shipmentRequestReused();
}

/** For the repository's guard (before the etag is looked at): a repeat, or throws IDEMPOTENCY_KEY_REUSED. */
export function isRepeatedShipment(order: Order, requestId: string, lines: readonly ShipmentLine[]): boolean {
  const repeat = repeatedShipment(order, requestId, lines);
  if (repeat instanceof DomainError) throw repeat;
  return repeat;
}

function createShipment(order: Order, cmd: CreateShipmentCommand, meta: ChangeMeta): Step[] | DomainError {
  const repeat = repeatedShipment(order, cmd.requestId, cmd.lines);
  if (repeat instanceof DomainError) return repeat;
  if (repeat) return [];
  if (order.status !== "CONFIRMED" && order.status !== "PROCESSING") return illegalTransition(order.id, order.status, "PROCESSING");
  const bad = checkLines(order, cmd.lines);
  if (bad) return bad;
  const left = unassigned(orderedUnits(order), order.shipments);
  const over = cmd.lines.filter((l) => l.quantity > left[l.lineNo - 1]!).map((l) => ({ lineNo: l.lineNo, left: left[l.lineNo - 1]! }));
  if (over.length > 0) return shipmentExceedsOrdered(order.id, over);
  let current = order;
  const changes: StatusChange[] = [];
  if (order.status === "CONFIRMED") {
    const started = setStatus(order, "PROCESSING", "fulfilment started", meta, cmd.requireCapture ?? false);
    if (!Array.isArray(started)) return started;
    current = started[0]!.order;
    changes.push(...(started[0] as Extract<Step, { kind: "CHANGED" }>).changes);
  }
  const shipment: Shipment = {
    id: shipmentIdFor(order.id, cmd.requestId),
    requestId: cmd.requestId,
    status: "PENDING",
    lines: [...cmd.lines].sort((a, b) => a.lineNo - b.lineNo),
    shippingInfo: cmd.shippingInfo,
    createTime: meta.at,
    shipTime: undefined,
    deliverTime: undefined,
  };
  return [{ kind: "SHIPMENT", order: { ...current, shipments: [...current.shipments, shipment] }, shipments: [shipment], changes }];
}

type SetShipmentStatusCommand = Extract<OrderCommand, { kind: "SET_SHIPMENT_STATUS" }>;

/** Moves one shipment; the order follows: SHIPPED once every unit is shipped, DELIVERED once every unit is delivered. */
function setShipmentStatus(order: Order, cmd: SetShipmentStatusCommand, meta: ChangeMeta): Step[] | DomainError {
  const index = order.shipments.findIndex((sh) => sh.id === cmd.shipmentId);
  const current = order.shipments[index];
  if (!current) return shipmentNotFound(order.id, cmd.shipmentId);
  if (cmd.shippingInfo && cmd.to !== "PENDING" && cmd.to !== "SHIPPED") return shippingInfoNotAllowed(cmd.to);
  const sameInfo = !cmd.shippingInfo || sameShipping(cmd.shippingInfo, current.shippingInfo);
  if (current.status === cmd.to && sameInfo) return [];
  if (current.status !== cmd.to && !canShipmentTransition(current.status, cmd.to)) {
    return illegalShipmentTransition(order.id, current.id, current.status, cmd.to);
  }
  if (current.status === cmd.to && cmd.to !== "PENDING") return illegalShipmentTransition(order.id, current.id, current.status, cmd.to);
  const shippingInfo = cmd.shippingInfo ?? current.shippingInfo;
  if (cmd.to === "SHIPPED" && !shippingInfo) return shippingInfoRequired(order.id);
  const moved: Shipment = {
    ...current,
    status: cmd.to,
    shippingInfo,
    shipTime: cmd.to === "SHIPPED" ? meta.at : current.shipTime,
    deliverTime: cmd.to === "DELIVERED" ? meta.at : current.deliverTime,
  };
  const shipments = order.shipments.map((sh, i) => (i === index ? moved : sh));
  // The order's shipping info is the latest parcel's, for clients of the one-shipment fields.
  let after: Order = { ...order, shipments, shippingInfo: cmd.to === "SHIPPED" ? shippingInfo : order.shippingInfo };
  const changes: StatusChange[] = [];
  const ordered = orderedUnits(order);
  // Every unit left (some may already be delivered), and every unit delivered: from the units, not the fulfilment status.
  const allShipped = unitsIn(shipments, ordered.length, ["SHIPPED", "DELIVERED"]).every((u, i) => u >= ordered[i]!);
  const allDelivered = fulfilmentStatusOf(ordered, shipments) === "DELIVERED";
  if (allShipped && after.status === "PROCESSING") after = follow(after, "SHIPPED", cmd.reason || "every unit shipped", meta, changes);
  if (allDelivered && after.status === "SHIPPED") after = follow(after, "DELIVERED", cmd.reason || "every unit delivered", meta, changes);
  return [{ kind: "SHIPMENT", order: after, shipments: [moved], changes }];
}

/**
 * CancelUnshipped: with parcels gone, the rest is cancelled — PENDING parcels,
 * and every unit in no parcel that left, given back to inventory (a PENDING
 * restock, returned after the commit) — and the order, all of whose
 * remaining units have now left, is SHIPPED (or DELIVERED). Nothing shipped:
 * the whole order is cancelled.
 */
function cancelUnshipped(order: Order, reason: string, meta: ChangeMeta): Step[] | DomainError {
  const left = order.shipments.some((sh) => sh.status === "SHIPPED" || sh.status === "DELIVERED");
  if (!left) return order.status === "CANCELLED" ? [] : setStatus(order, "CANCELLED", reason, meta, false);
  if (order.status !== "PROCESSING") return []; // every unit still ordered has left already
  const ordered = orderedUnits(order);
  const sent = unitsIn(order.shipments, ordered.length, ["SHIPPED", "DELIVERED"]);
  const lines = ordered.flatMap((q, i) => (q - sent[i]! > 0 ? [{ lineNo: i + 1, quantity: q - sent[i]! }] : []));
  const restock: Restock = { id: `cancelled-rest-v${order.version + 1}`, kind: "CANCELLED_REST", lines, state: "PENDING", createTime: meta.at };
  const shipments = order.shipments.map((sh) => (sh.status === "PENDING" ? { ...sh, status: "CANCELLED" as const } : sh));
  let after: Order = { ...order, shipments, restocks: [...order.restocks, restock] };
  const changes: StatusChange[] = [];
  after = follow(after, "SHIPPED", reason, meta, changes);
  if (fulfilmentStatusOf(orderedUnits(after), shipments) === "DELIVERED") after = follow(after, "DELIVERED", reason, meta, changes);
  const value = lines.reduce((sum, l) => sum + order.lines[l.lineNo - 1]!.unitPrice.amountMinor * BigInt(l.quantity), 0n);
  return [{ kind: "UNSHIPPED_CANCELLED", order: after, restock, changes }, ...refundDue(after, "unshipped units cancelled", value)];
}

/** Lines of a request: each an order line, at most once. */
function checkLines(order: Order, lines: readonly ShipmentLine[]): DomainError | undefined {
  const seen = new Set<number>();
  for (const l of lines) {
    if (l.lineNo < 1 || l.lineNo > order.lines.length) return lineNotFound(order.id, l.lineNo, order.lines.length);
    if (seen.has(l.lineNo)) return lineRepeated(l.lineNo);
    seen.add(l.lineNo);
  }
  return undefined;
}

const linesKey = (ls: readonly ShipmentLine[]) => JSON.stringify([...ls].sort((a, b) => a.lineNo - b.lineNo));

/** Whether a RequestReturn repeats the one that made one of the order's returns; IDEMPOTENCY_KEY_REUSED when its request id made other lines. */
function repeatedReturn(order: Order, requestId: string, lines: readonly ShipmentLine[]): boolean | DomainError {
  const found = order.returns.find((r) => r.id === returnIdFor(order.id, requestId));
  if (!found) return false;
  return linesKey(found.lines) === linesKey(lines) ? true : returnRequestReused();
}

/** For the repository's guard (before the etag is looked at): a repeat, or throws IDEMPOTENCY_KEY_REUSED. */
export function isRepeatedReturn(order: Order, requestId: string, lines: readonly ShipmentLine[]): boolean {
  const repeat = repeatedReturn(order, requestId, lines);
  if (repeat instanceof DomainError) throw repeat;
  return repeat;
}

const DAY_MS = 86_400_000;

type RequestReturnCommand = Extract<OrderCommand, { kind: "REQUEST_RETURN" }>;

function requestReturn(order: Order, cmd: RequestReturnCommand, meta: ChangeMeta): Step[] | DomainError {
  const repeat = repeatedReturn(order, cmd.requestId, cmd.lines);
  if (repeat instanceof DomainError) return repeat;
  if (repeat) return [];
  const bad = checkLines(order, cmd.lines);
  if (bad) return bad;
  if (cmd.windowDays !== undefined) {
    const delivered = lastDelivery(order);
    if (!delivered || meta.at.getTime() - delivered.getTime() > cmd.windowDays * DAY_MS) return returnWindowClosed(order.id, cmd.windowDays);
  }
  const left = returnable(order);
  const over = cmd.lines.filter((l) => l.quantity > left[l.lineNo - 1]!).map((l) => ({ lineNo: l.lineNo, left: Math.max(0, left[l.lineNo - 1]!) }));
  if (over.length > 0) return returnExceedsDelivered(order.id, over);
  const ret: Return = {
    id: returnIdFor(order.id, cmd.requestId),
    requestId: cmd.requestId,
    status: "REQUESTED",
    lines: [...cmd.lines].sort((a, b) => a.lineNo - b.lineNo),
    reason: cmd.reason,
    refundMinor: undefined,
    createTime: meta.at,
    updateTime: meta.at,
  };
  return [{ kind: "RETURN", order: { ...order, returns: [...order.returns, ret] }, ret, reason: cmd.reason }];
}

type SetReturnStatusCommand = Extract<OrderCommand, { kind: "SET_RETURN_STATUS" }>;

/** RECEIVED: the units go back into stock (a restock) and their value, as ordered, falls due. */
function setReturnStatus(order: Order, cmd: SetReturnStatusCommand, meta: ChangeMeta): Step[] | DomainError {
  const index = order.returns.findIndex((r) => r.id === cmd.returnId);
  const current = order.returns[index];
  if (!current) return returnNotFound(order.id, cmd.returnId);
  if (current.status === cmd.to) return [];
  if (!canReturnTransition(current.status, cmd.to)) return illegalReturnTransition(order.id, current.id, current.status, cmd.to);
  const received = cmd.to === "RECEIVED";
  const refundMinor = received ? refundOf(order, current.lines) : current.refundMinor;
  const ret: Return = { ...current, status: cmd.to, refundMinor, updateTime: meta.at };
  const returns = order.returns.map((r, i) => (i === index ? ret : r));
  const restocks: Restock[] = received
    ? [...order.restocks, { id: `return-${current.id}`, kind: "RETURN", lines: current.lines, state: "PENDING", createTime: meta.at }]
    : [...order.restocks];
  const after: Order = { ...order, returns, restocks };
  const steps: Step[] = [{ kind: "RETURN", order: after, ret, reason: cmd.reason }];
  if (received) steps.push(...refundDue(after, "return received", refundMinor));
  return steps;
}

/** The order moved along by its parcels (not by a caller's status change): the change is added to `changes`. */
function follow(order: Order, to: OrderStatus, reason: string, meta: ChangeMeta, changes: StatusChange[]): Order {
  const change: StatusChange = { from: order.status, to, reason, actor: meta.actor, at: meta.at };
  changes.push(change);
  return { ...order, status: to, history: [...order.history, change] };
}

const sameShipping = (a: ShippingInfo, b: ShippingInfo | undefined) => b?.carrier === a.carrier && b.trackingNumber === a.trackingNumber;

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
