/** Mapping between the Order aggregate and its rows. */
import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { Order, OrderLine, ReservationState, StatusChange } from "../domain/order.js";
import type { OrderStatus } from "../domain/order-status.js";
import { fulfilmentStatusOf, orderedUnits, type Restock, type Shipment, type ShipmentStatus } from "../domain/fulfilment.js";
import type { PaymentStatus } from "../domain/payment.js";
import type { Return, ReturnStatus } from "../domain/returns.js";
import type { StaffNote } from "../domain/annotations.js";
import type { DecidedEvent, Decision } from "../domain/transition.js";
import { activeTraceparent } from "../../platform/tracing.js";
// The events are the contract's messages, mapped as the RPCs map an Order.
import { orderEvent } from "../rpc/order-events.js";
import { orderHistory, orderLines, orders, outbox, type RestockJson, type ReturnJson, type ShipmentJson, type StaffNoteJson } from "./schema.js";

export type OrderRow = typeof orders.$inferSelect;
export type LineRow = typeof orderLines.$inferSelect;
export type HistoryRow = typeof orderHistory.$inferSelect;
/** A line or history row as `toOrder` needs it: its order is the one being mapped. */
export type ChildRow<T> = Omit<T, "orderId">;

export function toOrder(row: OrderRow, lines: readonly ChildRow<LineRow>[], history: readonly ChildRow<HistoryRow>[]): Order {
  return {
    id: row.id,
    number: row.number.toString(),
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
    shipments: row.shipments.map(fromShipmentJson),
    restocks: row.restocks.map(fromRestockJson),
    returns: row.returns.map(fromReturnJson),
    customerNote: row.customerNote,
    staffNotes: row.staffNotes.map(fromStaffNoteJson),
    tags: row.tags,
    metadata: row.metadata,
    payment: {
      status: row.paymentStatus as PaymentStatus,
      authorizedMinor: row.authorizedMinor,
      capturedMinor: row.capturedMinor,
      refundedMinor: row.refundedMinor,
      refundPendingMinor: row.refundPendingMinor,
    },
    version: row.version,
    createTime: row.createTime,
    updateTime: row.updateTime,
    reservationId: row.reservationId,
    reservationState: row.reservationState as ReservationState,
    deleted: row.deleteTime !== null,
  };
}

const dateOrUndefined = (iso: string | null) => (iso === null ? undefined : new Date(iso));

function fromShipmentJson(j: ShipmentJson): Shipment {
  return {
    id: j.id,
    requestId: j.requestId,
    status: j.status as ShipmentStatus,
    lines: j.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })),
    shippingInfo: j.carrier !== null && j.trackingNumber !== null ? { carrier: j.carrier, trackingNumber: j.trackingNumber } : undefined,
    createTime: new Date(j.createTime),
    shipTime: dateOrUndefined(j.shipTime),
    deliverTime: dateOrUndefined(j.deliverTime),
  };
}

function fromReturnJson(j: ReturnJson): Return {
  return {
    id: j.id,
    requestId: j.requestId,
    status: j.status as ReturnStatus,
    lines: j.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })),
    reason: j.reason,
    refundMinor: j.refundMinor === null ? undefined : BigInt(j.refundMinor),
    createTime: new Date(j.createTime),
    updateTime: new Date(j.updateTime),
  };
}

function toReturnJson(r: Return): ReturnJson {
  return {
    id: r.id,
    requestId: r.requestId,
    status: r.status,
    lines: r.lines.map((l) => ({ ...l })),
    reason: r.reason,
    refundMinor: r.refundMinor === undefined ? null : r.refundMinor.toString(),
    createTime: r.createTime.toISOString(),
    updateTime: r.updateTime.toISOString(),
  };
}

const fromStaffNoteJson = (j: StaffNoteJson): StaffNote => ({
  id: j.id,
  requestId: j.requestId,
  text: j.text,
  author: j.author,
  createTime: new Date(j.createTime),
});

const toStaffNoteJson = (n: StaffNote): StaffNoteJson => ({
  id: n.id,
  requestId: n.requestId,
  text: n.text,
  author: n.author,
  createTime: n.createTime.toISOString(),
});

function fromRestockJson(j: RestockJson): Restock {
  return {
    id: j.id,
    kind: j.kind as Restock["kind"],
    lines: j.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })),
    state: j.state as Restock["state"],
    createTime: new Date(j.createTime),
  };
}

export function toRestockJson(r: Restock): RestockJson {
  return { id: r.id, kind: r.kind, lines: r.lines.map((l) => ({ ...l })), state: r.state, createTime: r.createTime.toISOString() };
}

function toShipmentJson(sh: Shipment): ShipmentJson {
  return {
    id: sh.id,
    requestId: sh.requestId,
    status: sh.status,
    lines: sh.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })),
    carrier: sh.shippingInfo?.carrier ?? null,
    trackingNumber: sh.shippingInfo?.trackingNumber ?? null,
    createTime: sh.createTime.toISOString(),
    shipTime: sh.shipTime?.toISOString() ?? null,
    deliverTime: sh.deliverTime?.toISOString() ?? null,
  };
}

function toLine(r: ChildRow<LineRow>): OrderLine {
  return {
    productId: r.productId,
    variantId: r.variantId,
    quantity: r.quantity,
    unitPrice: { currency: r.currency, amountMinor: r.unitPriceMinor },
    lineTotal: { currency: r.currency, amountMinor: r.lineTotalMinor },
  };
}

function toChange(r: ChildRow<HistoryRow>): StatusChange {
  return {
    from: (r.fromStatus ?? undefined) as OrderStatus | undefined,
    to: r.toStatus as OrderStatus,
    reason: r.reason,
    actor: r.actor,
    at: r.changeTime,
  };
}

/*
 * An order with its lines and history in ONE statement: the order's columns
 * plus two correlated json_agg subqueries (served by the lines' primary key
 * and order_history_order_idx), in the order toOrder sorts them. Each child
 * row is a JSON array (positional: about a fifth cheaper than objects for
 * the server to build); its decoder below names the positions. JSON has no
 * bigint or timestamp: money travels as text (exact through BigInt), times
 * as epoch milliseconds (the columns are millisecond precision; floor is the
 * truncation `new Date(text)` applies to finer fractions).
 */
const epochMs = (t: typeof orderHistory.changeTime) => sql`floor(extract(epoch from ${t}) * 1000)::bigint`;

const linesAgg = sql`select json_agg(json_build_array(
    ${orderLines.lineNo}, ${orderLines.productId}, ${orderLines.variantId}, ${orderLines.quantity},
    ${orderLines.currency}, ${orderLines.unitPriceMinor}::text, ${orderLines.lineTotalMinor}::text
  ) order by ${orderLines.lineNo}) from ${orderLines} where ${orderLines.orderId} = ${orders.id}`;

type LineJson = [
  lineNo: number,
  productId: string,
  variantId: string,
  quantity: number,
  currency: string,
  unitPriceMinor: string,
  lineTotalMinor: string,
];

const decodeLine = ([lineNo, productId, variantId, quantity, currency, unit, total]: LineJson): ChildRow<LineRow> => ({
  lineNo,
  productId,
  variantId,
  quantity,
  currency,
  unitPriceMinor: BigInt(unit),
  lineTotalMinor: BigInt(total),
});

const historyAgg = sql`select json_agg(json_build_array(
    ${orderHistory.id}, ${orderHistory.fromStatus}, ${orderHistory.toStatus}, ${orderHistory.reason},
    ${orderHistory.actor}, ${epochMs(orderHistory.changeTime)}
  ) order by ${orderHistory.id}) from ${orderHistory} where ${orderHistory.orderId} = ${orders.id}`;

type HistoryJson = [
  id: number,
  fromStatus: string | null,
  toStatus: string,
  reason: string,
  actor: string,
  changeTimeMs: number,
];

const decodeChange = ([id, fromStatus, toStatus, reason, actor, ms]: HistoryJson): ChildRow<HistoryRow> => ({
  id,
  fromStatus,
  toStatus,
  reason,
  actor,
  changeTime: new Date(ms),
});

/*
 * The aggregates are nested SQL on purpose: a single-table select renders the
 * columns at the top level of a select-list fragment unqualified ("id"), which
 * inside the subquery would mean the child's column; nested, they render
 * schema.table.column.
 */
const orEmpty = (agg: SQL) => sql`coalesce((${agg}), '[]'::json)`;

/** json arrives parsed (postgres-js, PGlite) or, with other parsers, as text. */
const parsed = <T>(value: unknown): T[] => (typeof value === "string" ? JSON.parse(value) : value) as T[];

/** Select list: `db.select(orderWithChildren).from(orders)...`, rows → `fromOrderWithChildren`. */
export const orderWithChildren = {
  ...getTableColumns(orders),
  lines: orEmpty(linesAgg).mapWith((v) => parsed<LineJson>(v).map(decodeLine)),
  history: orEmpty(historyAgg).mapWith((v) => parsed<HistoryJson>(v).map(decodeChange)),
};

export type OrderWithChildrenRow = OrderRow & { lines: ChildRow<LineRow>[]; history: ChildRow<HistoryRow>[] };

export const fromOrderWithChildren = (r: OrderWithChildrenRow): Order => toOrder(r, r.lines, r.history);

/**
 * The columns a mutation may change. Notes, tags and metadata only when
 * `before` (the order the change was decided on) had others: the domain
 * keeps an untouched array or map the same object, and up to 100 notes of
 * 2,000 characters are too much to rewrite with every status change.
 */
export function mutableValues(o: Order, before?: Order) {
  return {
    status: o.status,
    carrier: o.shippingInfo?.carrier ?? null,
    trackingNumber: o.shippingInfo?.trackingNumber ?? null,
    reservationState: o.reservationState,
    shipments: o.shipments.map(toShipmentJson),
    fulfilmentStatus: fulfilmentStatusOf(orderedUnits(o), o.shipments),
    restocks: o.restocks.map(toRestockJson),
    returns: o.returns.map(toReturnJson),
    ...(o.staffNotes !== before?.staffNotes ? { staffNotes: o.staffNotes.map(toStaffNoteJson) } : {}),
    ...(o.tags !== before?.tags ? { tags: [...o.tags] } : {}),
    ...(o.metadata !== before?.metadata ? { metadata: o.metadata } : {}),
    restockPending: o.restocks.some((r) => r.state === "PENDING"),
    paymentStatus: o.payment.status,
    authorizedMinor: o.payment.authorizedMinor,
    capturedMinor: o.payment.capturedMinor,
    refundedMinor: o.payment.refundedMinor,
    refundPendingMinor: o.payment.refundPendingMinor,
    version: o.version,
    updateTime: o.updateTime,
    deleteTime: o.deleted ? o.updateTime : null,
  };
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

/**
 * One outbox event per change (README "Events"): the event message in
 * protobuf JSON, the order's version after the change, and the trace
 * context of the call making it.
 */
export function eventValues(e: DecidedEvent | { kind: "CREATED"; order: Order }): typeof outbox.$inferInsert {
  const o = e.order;
  const event = orderEvent(e);
  return {
    aggregateId: o.id,
    version: o.version,
    eventType: event.type,
    createTime: o.updateTime,
    payload: event.payload,
    traceparent: activeTraceparent() ?? null,
  };
}

/** A decision's outbox rows: one per version it made, oldest first. */
export const decisionEvents = (d: Decision) => d.events.map(eventValues);
