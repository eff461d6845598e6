/** The reasons this service raises about orders (part of the API). */
import {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  permissionDenied,
  unavailable,
} from "../../kernel/errors.js";
import type { OrderStatus } from "./order-status.js";
import type { ShipmentStatus } from "./fulfilment.js";
import type { ReturnStatus } from "./returns.js";
import type { PaymentEventKind, PaymentRefusal, PaymentStatus } from "./payment.js";

export const orderNotFound = (id: string) =>
  notFound("ORDER_NOT_FOUND", `order ${id} not found`, { orderId: id });

export const etagMismatch = (id: string) =>
  aborted("ETAG_MISMATCH", `order ${id} changed since the given etag was issued`, { orderId: id });

export const illegalTransition = (id: string, from: OrderStatus, to: OrderStatus) =>
  failedPrecondition(
    "ILLEGAL_TRANSITION",
    `order ${id} is ${from}; it cannot become ${to}`,
    [{ type: "ILLEGAL_TRANSITION", subject: `orders/${id}`, description: `current status is ${from}` }],
    { orderId: id, currentStatus: from, requestedStatus: to },
  );

export const shippingInfoRequired = (id: string) =>
  failedPrecondition(
    "SHIPPING_INFO_REQUIRED",
    `order ${id} needs a carrier and tracking number before it can be SHIPPED`,
    [{ type: "SHIPPING_INFO_REQUIRED", subject: `orders/${id}`, description: "no shipping info set" }],
    { orderId: id },
  );

export const orderFinalized = (id: string, status: OrderStatus) =>
  failedPrecondition(
    "ORDER_FINALIZED",
    `order ${id} is ${status}; its shipping info can no longer change`,
    [{ type: "ORDER_FINALIZED", subject: `orders/${id}`, description: `current status is ${status}` }],
    { orderId: id, currentStatus: status },
  );

export const idempotencyKeyReused = () =>
  invalidArgument("IDEMPOTENCY_KEY_REUSED", "request_id was already used by this customer for a different order", [
    { field: "request_id", description: "already used with a different payload" },
  ]);

export const orderDeleted = (id: string) =>
  alreadyExists("ORDER_DELETED", `request_id already created order ${id}, since deleted`, { orderId: id });

export const notOwnCustomer = () =>
  permissionDenied("NOT_OWN_CUSTOMER", "a customer places orders for themselves only: customer_id must be yours");

export const customerInactive = (customerId: string) =>
  failedPrecondition("CUSTOMER_INACTIVE", `customer ${customerId} may not place orders`, [
    { type: "CUSTOMER_INACTIVE", subject: `customers/${customerId}`, description: "customer is not ACTIVE" },
  ]);

export const stockNotSold = (id: string) =>
  failedPrecondition(
    "STOCK_NOT_SOLD",
    `order ${id} cannot be CONFIRMED before its stock is sold`,
    [{ type: "STOCK_NOT_SOLD", subject: `orders/${id}`, description: "the reservation is not committed" }],
    { orderId: id },
  );

/** When a client may retry a CreateOrder whose sale inventory did not confirm. */
export const ORDER_NOT_CONFIRMED_RETRY_MS = 1000;

/**
 * CreateOrder stored the order but inventory did not confirm the sale in
 * time: nothing is acknowledged. Retrying with the same request_id answers
 * the same order once it is confirmed (by the retry or the reconciler).
 */
export const orderNotConfirmed = (id: string) =>
  unavailable(
    "ORDER_NOT_CONFIRMED",
    `order ${id} is stored but its stock is not yet sold; retry with the same request_id`,
    { orderId: id },
    ORDER_NOT_CONFIRMED_RETRY_MS,
  );

/** A repeat of a request whose order was cancelled before it was ever confirmed. */
export const orderCancelled = (id: string) =>
  failedPrecondition(
    "ORDER_CANCELLED",
    `order ${id} was cancelled before its stock was sold`,
    [{ type: "ORDER_CANCELLED", subject: `orders/${id}`, description: "cancelled while PENDING" }],
    { orderId: id },
  );

/**
 * A resumed WatchOrder whose changes after `afterVersion` are no longer kept
 * (published events past the outbox retention, or changes made before the
 * events contract): the client watches again without a resume point.
 */
export const resumePointExpired = (id: string, afterVersion: number) =>
  failedPrecondition(
    "RESUME_POINT_EXPIRED",
    `the changes of order ${id} after version ${afterVersion} are no longer kept; watch without after_version`,
    [{ type: "RESUME_POINT_EXPIRED", subject: `orders/${id}`, description: `changes after version ${afterVersion} are gone` }],
    { orderId: id, afterVersion: String(afterVersion) },
  );

/** A resumed WatchOrder past the order's version: no client can have seen it. */
export const resumePointAhead = (id: string, afterVersion: number, version: number) =>
  invalidArgument(
    "RESUME_POINT_AHEAD",
    `order ${id} is at version ${version}; there is no version ${afterVersion} to resume after`,
    [{ field: "after_version", description: `greater than the order's version (${version})` }],
    { orderId: id, version: String(version) },
  );

/** A payment report its payment cannot take (domain/payment.ts): the kind in this status, or an amount past a limit. */
export function paymentRefused(id: string, current: PaymentStatus, kind: PaymentEventKind, refusal: PaymentRefusal) {
  const limit = "limitMinor" in refusal ? refusal.limitMinor.toString() : undefined;
  const message =
    refusal.reason === "ILLEGAL_PAYMENT_TRANSITION"
      ? `order ${id}'s payment is ${current}; it cannot take a ${kind} report`
      : refusal.reason === "PAYMENT_EXCEEDS_TOTAL"
        ? `order ${id}: at most ${limit} more (minor units) can be authorised: the order's total`
        : refusal.reason === "CAPTURE_EXCEEDS_AUTHORIZED"
          ? `order ${id}: at most ${limit} more (minor units) can be captured: what is authorised`
          : `order ${id}: at most ${limit} more (minor units) can be refunded: what is captured`;
  return failedPrecondition(
    refusal.reason,
    message,
    [{ type: refusal.reason, subject: `orders/${id}`, description: `payment status is ${current}${limit ? `; at most ${limit} more` : ""}` }],
    { orderId: id, paymentStatus: current, kind, ...(limit !== undefined ? { limitMinor: limit } : {}) },
  );
}

/** A report's amount in another currency than the order's. */
export const currencyMismatch = (id: string, expected: string) =>
  invalidArgument("CURRENCY_MISMATCH", `order ${id} is in ${expected}; the amount must be too`, [
    { field: "amount.currency_code", description: `must be the order's currency, ${expected}` },
  ]);

/** The provider's event id was reported before with a different report (or for another order). */
export const paymentEventReused = () =>
  invalidArgument("IDEMPOTENCY_KEY_REUSED", "provider_event_id was already reported with a different report", [
    { field: "provider_event_id", description: "already used with a different report" },
  ]);

/** REQUIRE_CAPTURE_BEFORE_FULFILMENT: fulfilment starts only once the whole total is captured. */
export const paymentNotCaptured = (id: string, status: PaymentStatus, to: OrderStatus) =>
  failedPrecondition(
    "PAYMENT_NOT_CAPTURED",
    `order ${id} cannot become ${to} before its whole total is captured (payment is ${status})`,
    [{ type: "PAYMENT_NOT_CAPTURED", subject: `orders/${id}`, description: `payment status is ${status}` }],
    { orderId: id, paymentStatus: status, requestedStatus: to },
  );

export const shipmentNotFound = (orderId: string, shipmentId: string) =>
  notFound("SHIPMENT_NOT_FOUND", `order ${orderId} has no shipment ${shipmentId}`, { orderId, shipmentId });

export const illegalShipmentTransition = (orderId: string, shipmentId: string, from: ShipmentStatus, to: ShipmentStatus) =>
  failedPrecondition(
    "ILLEGAL_SHIPMENT_TRANSITION",
    `shipment ${shipmentId} is ${from}; it cannot become ${to}`,
    [{ type: "ILLEGAL_SHIPMENT_TRANSITION", subject: `orders/${orderId}/shipments/${shipmentId}`, description: `current status is ${from}` }],
    { orderId, shipmentId, currentStatus: from, requestedStatus: to },
  );

/** More of some lines in shipments than ordered: one violation per line over, with how many units are left to ship. */
export const shipmentExceedsOrdered = (orderId: string, over: readonly { lineNo: number; left: number }[]) =>
  failedPrecondition(
    "SHIPMENT_EXCEEDS_ORDERED",
    `order ${orderId}: the shipment holds more units than are left to ship of ${over.length === 1 ? "a line" : `${over.length} lines`}`,
    over.map((o) => ({
      type: "SHIPMENT_EXCEEDS_ORDERED",
      subject: `orders/${orderId}/lines/${o.lineNo}`,
      description: `${o.left} unit${o.left === 1 ? "" : "s"} left to ship`,
    })),
    { orderId },
  );

export const lineNotFound = (orderId: string, lineNo: number, lineCount: number) =>
  invalidArgument("LINE_NOT_FOUND", `order ${orderId} has no line ${lineNo}`, [
    { field: "lines.line_number", description: `order lines are 1 to ${lineCount}` },
  ]);

export const lineRepeated = (lineNo: number) =>
  invalidArgument("INVALID_REQUEST", `line ${lineNo} appears more than once`, [
    { field: "lines.line_number", description: "each order line at most once" },
  ]);

export const shipmentRequestReused = () =>
  invalidArgument("IDEMPOTENCY_KEY_REUSED", "request_id already made a different shipment of this order", [
    { field: "request_id", description: "already used with other lines" },
  ]);

/** An order with units already shipped cannot be cancelled as a whole. */
export const orderPartiallyShipped = (id: string, status: OrderStatus) =>
  failedPrecondition(
    "ORDER_PARTIALLY_SHIPPED",
    `order ${id} has units shipped; it cannot be cancelled`,
    [{ type: "ORDER_PARTIALLY_SHIPPED", subject: `orders/${id}`, description: `units are shipped (status ${status})` }],
    { orderId: id, currentStatus: status },
  );

export const returnNotFound = (orderId: string, returnId: string) =>
  notFound("RETURN_NOT_FOUND", `order ${orderId} has no return ${returnId}`, { orderId, returnId });

export const illegalReturnTransition = (orderId: string, returnId: string, from: ReturnStatus, to: ReturnStatus) =>
  failedPrecondition(
    "ILLEGAL_RETURN_TRANSITION",
    `return ${returnId} is ${from}; it cannot become ${to}`,
    [{ type: "ILLEGAL_RETURN_TRANSITION", subject: `orders/${orderId}/returns/${returnId}`, description: `current status is ${from}` }],
    { orderId, returnId, currentStatus: from, requestedStatus: to },
  );

/** More of some lines in returns than delivered: one violation per line over, with how many units can still be returned. */
export const returnExceedsDelivered = (orderId: string, over: readonly { lineNo: number; left: number }[]) =>
  failedPrecondition(
    "RETURN_EXCEEDS_DELIVERED",
    `order ${orderId}: the return holds more units than were delivered and not yet returned`,
    over.map((o) => ({
      type: "RETURN_EXCEEDS_DELIVERED",
      subject: `orders/${orderId}/lines/${o.lineNo}`,
      description: `${o.left} unit${o.left === 1 ? "" : "s"} can be returned`,
    })),
    { orderId },
  );

export const returnWindowClosed = (orderId: string, days: number) =>
  failedPrecondition(
    "RETURN_WINDOW_CLOSED",
    `order ${orderId} was delivered more than ${days} days ago (or not at all): ask staff for a return`,
    [{ type: "RETURN_WINDOW_CLOSED", subject: `orders/${orderId}`, description: `returns are open ${days} days after delivery` }],
    { orderId, windowDays: String(days) },
  );

export const returnRequestReused = () =>
  invalidArgument("IDEMPOTENCY_KEY_REUSED", "request_id already made a different return of this order", [
    { field: "request_id", description: "already used with other lines" },
  ]);

/** Shipping info is set on a parcel that waits or leaves, not with its delivery or cancellation. */
export const shippingInfoNotAllowed = (to: ShipmentStatus) =>
  invalidArgument("INVALID_REQUEST", `shipping_info goes with PENDING or SHIPPED, not ${to}`, [
    { field: "shipping_info", description: `must be unset when moving a shipment to ${to}` },
  ]);

/** An order holds at most `limit` staff notes (domain/annotations.ts): the row stays small. */
export const noteLimitReached = (id: string, limit: number) =>
  failedPrecondition(
    "NOTE_LIMIT_REACHED",
    `order ${id} has ${limit} notes, the most an order keeps`,
    [{ type: "NOTE_LIMIT_REACHED", subject: `orders/${id}`, description: `at most ${limit} notes per order` }],
    { orderId: id, limit: String(limit) },
  );

export const noteRequestReused = () =>
  invalidArgument("IDEMPOTENCY_KEY_REUSED", "request_id already added a note with another text to this order", [
    { field: "request_id", description: "already used with another text" },
  ]);

export const tagLimitReached = (id: string, limit: number) =>
  failedPrecondition(
    "TAG_LIMIT_REACHED",
    `order ${id} would have more than ${limit} tags`,
    [{ type: "TAG_LIMIT_REACHED", subject: `orders/${id}`, description: `at most ${limit} tags per order` }],
    { orderId: id, limit: String(limit) },
  );

export const tagAddedAndRemoved = (tags: readonly string[]) =>
  invalidArgument("TAG_ADDED_AND_REMOVED", `tags both added and removed: ${tags.join(", ")}`, [
    { field: "remove_tags", description: `also in add_tags: ${tags.join(", ")}` },
  ]);

export const metadataLimitReached = (id: string, limit: number) =>
  failedPrecondition(
    "METADATA_LIMIT_REACHED",
    `order ${id} would have more than ${limit} metadata entries`,
    [{ type: "METADATA_LIMIT_REACHED", subject: `orders/${id}`, description: `at most ${limit} metadata entries per order` }],
    { orderId: id, limit: String(limit) },
  );

export const metadataKeySetAndRemoved = (keys: readonly string[]) =>
  invalidArgument("METADATA_KEY_SET_AND_REMOVED", `metadata keys both set and removed: ${keys.join(", ")}`, [
    { field: "remove_keys", description: `also in set: ${keys.join(", ")}` },
  ]);
