/** Mapping between the Order aggregate and its rows. */
import type { Order, OrderLine, ReservationState, StatusChange } from "../domain/order.js";
import type { OrderStatus } from "../domain/order-status.js";
import type { Decision } from "../domain/transition.js";
import { orderHistory, orderLines, orders, outbox } from "./schema.js";

export type OrderRow = typeof orders.$inferSelect;
export type LineRow = typeof orderLines.$inferSelect;
export type HistoryRow = typeof orderHistory.$inferSelect;

export function toOrder(row: OrderRow, lines: readonly LineRow[], history: readonly HistoryRow[]): Order {
  return {
    id: row.id,
    customerId: row.customerId,
    requestId: row.requestId,
    status: row.status as OrderStatus,
    lines: [...lines].sort((a, b) => a.lineNo - b.lineNo).map(toLine),
    total: { currency: row.currency, amountMinor: row.totalMinor },
    shippingAddress: row.shippingAddress ?? undefined,
    shippingInfo:
      row.carrier !== null && row.trackingNumber !== null
        ? { carrier: row.carrier, trackingNumber: row.trackingNumber }
        : undefined,
    history: [...history].sort((a, b) => a.id - b.id).map(toChange),
    version: row.version,
    createTime: row.createTime,
    updateTime: row.updateTime,
    reservationId: row.reservationId,
    reservationState: row.reservationState as ReservationState,
    deleted: row.deleteTime !== null,
  };
}

function toLine(r: LineRow): OrderLine {
  return {
    productId: r.productId,
    variantId: r.variantId,
    quantity: r.quantity,
    unitPrice: { currency: r.currency, amountMinor: r.unitPriceMinor },
    lineTotal: { currency: r.currency, amountMinor: r.lineTotalMinor },
  };
}

function toChange(r: HistoryRow): StatusChange {
  return {
    from: (r.fromStatus ?? undefined) as OrderStatus | undefined,
    to: r.toStatus as OrderStatus,
    reason: r.reason,
    actor: r.actor,
    at: r.changeTime,
  };
}

/** The columns a mutation may change. */
export function mutableValues(o: Order) {
  return {
    status: o.status,
    carrier: o.shippingInfo?.carrier ?? null,
    trackingNumber: o.shippingInfo?.trackingNumber ?? null,
    reservationState: o.reservationState,
    version: o.version,
    updateTime: o.updateTime,
    deleteTime: o.deleted ? o.updateTime : null,
  };
}

export function orderValues(o: Order): typeof orders.$inferInsert {
  return {
    ...mutableValues(o),
    id: o.id,
    customerId: o.customerId,
    requestId: o.requestId,
    currency: o.total.currency,
    totalMinor: o.total.amountMinor,
    shippingAddress: o.shippingAddress ? { ...o.shippingAddress } : null,
    reservationId: o.reservationId,
    createTime: o.createTime,
  };
}

export function lineValues(o: Order): (typeof orderLines.$inferInsert)[] {
  return o.lines.map((l, i) => ({
    orderId: o.id,
    lineNo: i + 1,
    productId: l.productId,
    variantId: l.variantId,
    quantity: l.quantity,
    currency: l.unitPrice.currency,
    unitPriceMinor: l.unitPrice.amountMinor,
    lineTotalMinor: l.lineTotal.amountMinor,
  }));
}

export function historyValues(orderId: string, changes: readonly StatusChange[]): (typeof orderHistory.$inferInsert)[] {
  return changes.map((c) => ({
    orderId,
    fromStatus: c.from ?? null,
    toStatus: c.to,
    reason: c.reason,
    actor: c.actor,
    changeTime: c.at,
  }));
}

/** One outbox event per mutation, describing the change (JSON-safe: money as strings). */
export function eventValues(o: Order, changes: readonly StatusChange[], created = false): typeof outbox.$inferInsert {
  const eventType = created
    ? "orders.v1.OrderCreated"
    : o.deleted
      ? "orders.v1.OrderDeleted"
      : changes.length > 0
        ? "orders.v1.OrderStatusChanged"
        : "orders.v1.OrderShippingInfoChanged";
  return {
    aggregateId: o.id,
    eventType,
    createTime: o.updateTime,
    payload: {
      orderId: o.id,
      customerId: o.customerId,
      version: o.version,
      status: o.status,
      total: { currency: o.total.currency, amountMinor: o.total.amountMinor.toString() },
      shippingInfo: o.shippingInfo ?? null,
      changes: changes.map((c) => ({ ...c, from: c.from ?? null, at: c.at.toISOString() })),
    },
  };
}

export const decisionEvent = (d: Decision) => eventValues(d.order, d.changes);
