/**
 * The pure transition function: the current order and a command in, the new
 * order and its history entries (or a DomainError) out. Every mutation of an
 * existing order goes through `decide`; repositories only persist the result.
 */
import type { DomainError } from "../../kernel/errors.js";
import { illegalTransition, orderFinalized, shippingInfoRequired, stockNotSold } from "./order-errors.js";
import { canTransition, holdsStock, isFinal, type OrderStatus } from "./order-status.js";
import type { Order, ReservationState, ShippingInfo, StatusChange } from "./order.js";

export type OrderCommand =
  | { readonly kind: "SET_STATUS"; readonly to: OrderStatus; readonly reason: string }
  | { readonly kind: "SET_SHIPPING_INFO"; readonly info: ShippingInfo }
  | { readonly kind: "DELETE"; readonly reason: string };

export interface ChangeMeta {
  readonly at: Date;
  readonly actor: string;
}

/** The outcome of a command that is allowed. `changed: false` means nothing to write. */
export interface Decision {
  readonly order: Order;
  readonly changes: readonly StatusChange[];
  readonly changed: boolean;
}

export function decide(order: Order, cmd: OrderCommand, meta: ChangeMeta): Decision | DomainError {
  const outcome = apply(order, cmd, meta);
  if (!("changed" in outcome) || !outcome.changed) return outcome;
  return { ...outcome, order: { ...outcome.order, version: order.version + 1, updateTime: meta.at } };
}

export function isDecision(outcome: Decision | DomainError): outcome is Decision {
  return "changed" in outcome;
}

function apply(order: Order, cmd: OrderCommand, meta: ChangeMeta): Decision | DomainError {
  switch (cmd.kind) {
    case "SET_STATUS":
      return setStatus(order, cmd.to, cmd.reason, meta);
    case "SET_SHIPPING_INFO":
      return setShippingInfo(order, cmd.info);
    case "DELETE":
      return remove(order, cmd.reason, meta);
  }
}

const unchanged = (order: Order): Decision => ({ order, changes: [], changed: false });

function setStatus(order: Order, to: OrderStatus, reason: string, meta: ChangeMeta): Decision | DomainError {
  if (order.status === to) return unchanged(order);
  if (!canTransition(order.status, to)) return illegalTransition(order.id, order.status, to);
  if (to === "SHIPPED" && !order.shippingInfo) return shippingInfoRequired(order.id);
  // An order is acknowledged only once sold: the sale comes first (ReservationSettler.confirm).
  if (to === "CONFIRMED" && order.reservationState !== "COMMITTED") return stockNotSold(order.id);
  const change: StatusChange = { from: order.status, to, reason, actor: meta.actor, at: meta.at };
  const reservationState = to === "CANCELLED" ? releaseOf(order.reservationState) : order.reservationState;
  return {
    order: { ...order, status: to, reservationState, history: [...order.history, change] },
    changes: [change],
    changed: true,
  };
}

function setShippingInfo(order: Order, info: ShippingInfo): Decision | DomainError {
  if (isFinal(order.status)) return orderFinalized(order.id, order.status);
  const current = order.shippingInfo;
  if (current?.carrier === info.carrier && current.trackingNumber === info.trackingNumber) return unchanged(order);
  return { order: { ...order, shippingInfo: { ...info } }, changes: [], changed: true };
}

/** An order still holding stock is cancelled first, so deleting never leaks stock. */
function remove(order: Order, reason: string, meta: ChangeMeta): Decision | DomainError {
  let current: Decision = unchanged(order);
  if (holdsStock(order.status)) {
    const cancelled = setStatus(order, "CANCELLED", reason, meta);
    if (!isDecision(cancelled)) return cancelled;
    current = cancelled;
  }
  return { order: { ...current.order, deleted: true }, changes: current.changes, changed: true };
}

function releaseOf(state: ReservationState): ReservationState {
  return state === "PENDING" || state === "COMMITTED" ? "RELEASE_PENDING" : state;
}
