/** The reasons this service raises about orders (part of the API). */
import { aborted, alreadyExists, failedPrecondition, invalidArgument, notFound } from "../../kernel/errors.js";
import type { OrderStatus } from "./order-status.js";

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

export const customerInactive = (customerId: string) =>
  failedPrecondition("CUSTOMER_INACTIVE", `customer ${customerId} may not place orders`, [
    { type: "CUSTOMER_INACTIVE", subject: `customers/${customerId}`, description: "customer is not ACTIVE" },
  ]);
