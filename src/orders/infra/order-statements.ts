/**
 * The orders statements CreateOrder runs, each built once (see
 * src/platform/statements.ts): the idempotency lookup, the whole insert of a
 * new order as ONE statement, the version-guarded confirm (APPLY_IF_UNCHANGED)
 * and the guarded reservation moves.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { prepareStatement } from "../../platform/statements.js";
import type { Order, ReservationState } from "../domain/order.js";
import type { IdempotencyRecord } from "../domain/ports.js";
import type { Decision } from "../domain/transition.js";
import { eventValues } from "./order-rows.js";
import { insertTimelineEntryFrom, timelineParams } from "./order-timeline.js";

const p = sql.placeholder;

/*
 * The idempotency record or, once retention purged it (orders/infra/retention.ts),
 * the order it named: an order's id is derived from (customer, request id), so
 * the order row outlives its record as proof of the request (payload hash
 * NULL: the caller compares with the order's own fingerprint). One
 * statement: a primary-key probe per table, no extra round trip.
 */
const FIND_RECORD = sql`
select order_id as "orderId", payload_hash as "payloadHash" from orders.idempotency_keys
where customer_id = ${p("customerId")}::uuid and request_id = ${p("requestId")}
union all
select o.id, null::text from orders.orders o
where o.id = ${p("orderId")}::uuid and o.customer_id = ${p("customerId")}::uuid and o.request_id = ${p("requestId")}
  and not exists (select from orders.idempotency_keys k
    where k.customer_id = ${p("customerId")}::uuid and k.request_id = ${p("requestId")})`;

/*
 * The idempotency record goes first and decides: a racing duplicate waits on
 * its primary key until the winner commits, then inserts nothing at all (the
 * order and its children are inserted only from the claimed record). One
 * statement, so the order, its lines, history, outbox event and timeline
 * entry are stored together or not at all. The order's number comes from the column's default
 * (the sequence); the OrderCreated event gets it here, and the statement
 * returns it.
 */
const INSERT_ORDER = sql`
with claimed as (
  insert into orders.idempotency_keys (customer_id, request_id, payload_hash, order_id, create_time)
  values (${p("customerId")}::uuid, ${p("requestId")}, ${p("payloadHash")}, ${p("id")}::uuid, ${p("createTime")}::timestamptz)
  on conflict do nothing
  returning order_id
), created as (
  insert into orders.orders (id, customer_id, request_id, status, currency, total_minor, shipping_address,
    carrier, tracking_number, reservation_id, reservation_state, version, create_time, update_time, delete_time, customer_note)
  select order_id, ${p("customerId")}::uuid, ${p("requestId")}, ${p("status")}, ${p("currency")}, ${p("totalMinor")}::bigint,
    ${p("shippingAddress")}::jsonb, ${p("carrier")}, ${p("trackingNumber")}, ${p("reservationId")}, ${p("reservationState")},
    ${p("version")}::int, ${p("createTime")}::timestamptz, ${p("updateTime")}::timestamptz, ${p("deleteTime")}::timestamptz,
    ${p("customerNote")}
  from claimed
  returning id, number
), lines as (
  insert into orders.order_lines (order_id, line_no, product_id, variant_id, quantity, currency, unit_price_minor, line_total_minor)
  select c.id, l.line_no, l.product_id, l.variant_id, l.quantity, l.currency, l.unit_price_minor, l.line_total_minor
  from created c cross join jsonb_to_recordset(${p("lines")}::jsonb) as l(line_no int, product_id uuid, variant_id text,
    quantity int, currency text, unit_price_minor bigint, line_total_minor bigint)
), history as (
  insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
  select c.id, h.from_status, h.to_status, h.reason, h.actor, h.change_time
  from created c cross join rows from (jsonb_to_recordset(${p("history")}::jsonb) as (from_status text, to_status text,
    reason text, actor text, change_time timestamptz)) with ordinality as h(from_status, to_status, reason, actor, change_time, n)
  order by h.n
), event as (
  insert into orders.outbox (aggregate_id, version, event_type, payload, traceparent, create_time)
  select c.id, ${p("eventVersion")}::int, ${p("eventType")},
    jsonb_set(${p("eventPayload")}::jsonb, '{order,number}', to_jsonb(c.number::text)), ${p("traceparent")}, ${p("eventTime")}::timestamptz
  from created c
), timeline as (${insertTimelineEntryFrom("created")}
)
select c.id as "orderId", c.number::text as "number" from created c`;

const SET_RESERVATION_STATE = sql`
update orders.orders set reservation_state = ${p("to")}
where id = ${p("id")}::uuid and reservation_state = any(${p("from")}::text[])
returning id`;

/*
 * A decided change of an order written in ONE statement, only if the order
 * is still the version it was decided on (and not deleted): its status,
 * reservation state and version, its history entries, its outbox event and
 * its timeline entry, all or nothing. CreateOrder's confirm runs it right after the sale, with no
 * lock held across the inventory call; a concurrent change (a cancel, a
 * racing duplicate's confirm) makes it write nothing and the caller re-reads.
 */
const APPLY_IF_UNCHANGED = sql`
with applied as (
  update orders.orders set status = ${p("status")}, reservation_state = ${p("reservationState")},
    version = ${p("version")}::int, update_time = ${p("updateTime")}::timestamptz
  where id = ${p("id")}::uuid and version = ${p("expectedVersion")}::int and delete_time is null
  returning id
), history as (
  insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
  select a.id, h.from_status, h.to_status, h.reason, h.actor, h.change_time
  from applied a cross join rows from (jsonb_to_recordset(${p("history")}::jsonb) as (from_status text, to_status text,
    reason text, actor text, change_time timestamptz)) with ordinality as h(from_status, to_status, reason, actor, change_time, n)
  order by h.n
), event as (
  insert into orders.outbox (aggregate_id, version, event_type, payload, traceparent, create_time)
  select a.id, ${p("eventVersion")}::int, ${p("eventType")}, ${p("eventPayload")}::jsonb, ${p("traceparent")}, ${p("eventTime")}::timestamptz from applied a
), timeline as (${insertTimelineEntryFrom("applied")}
)
select id from applied`;

/* A PENDING order's stock held again under its next reservation id (the previous hold was lost). */
const MOVE_RESERVATION = sql`
update orders.orders set reservation_id = ${p("to")}
where id = ${p("id")}::uuid and reservation_id = ${p("from")} and status = 'PENDING' and reservation_state = 'PENDING'
returning id`;

const iso = (d: Date) => d.toISOString();

const historyJson = (changes: Order["history"]) =>
  JSON.stringify(
    changes.map((c) => ({ from_status: c.from ?? null, to_status: c.to, reason: c.reason, actor: c.actor, change_time: iso(c.at) })),
  );

/** The outbox row's values as the statements' parameters. */
const eventParams = (event: ReturnType<typeof eventValues>) => ({
  eventVersion: event.version,
  eventType: event.eventType,
  eventPayload: JSON.stringify(event.payload),
  traceparent: event.traceparent ?? null,
  eventTime: iso(event.createTime),
});

function applyValues(d: Decision, expectedVersion: number): Record<string, unknown> {
  const o = d.order;
  // One version: a status change with no follow-up (the confirm; this statement writes one event).
  if (d.events.length !== 1) throw new Error(`applyIfUnchanged writes one change, not ${d.events.length}`);
  const event = eventValues(d.events[0]!);
  return {
    ...timelineParams(d.events[0]!),
    id: o.id,
    expectedVersion,
    status: o.status,
    reservationState: o.reservationState,
    version: o.version,
    updateTime: iso(o.updateTime),
    history: historyJson(d.changes),
    ...eventParams(event),
  };
}

function insertValues(o: Order, payloadHash: string): Record<string, unknown> {
  const event = eventValues({ kind: "CREATED", order: o });
  return {
    customerId: o.customerId,
    requestId: o.requestId,
    payloadHash,
    id: o.id,
    status: o.status,
    currency: o.total.currency,
    totalMinor: o.total.amountMinor.toString(),
    shippingAddress: o.shippingAddress ? JSON.stringify(o.shippingAddress) : null,
    carrier: o.shippingInfo?.carrier ?? null,
    trackingNumber: o.shippingInfo?.trackingNumber ?? null,
    reservationId: o.reservationId,
    reservationState: o.reservationState,
    version: o.version,
    createTime: iso(o.createTime),
    updateTime: iso(o.updateTime),
    deleteTime: o.deleted ? iso(o.updateTime) : null,
    customerNote: o.customerNote,
    // Children as JSON (both drivers pass it verbatim; arrays would need care with nulls): money as strings.
    lines: JSON.stringify(
      o.lines.map((l, i) => ({
        line_no: i + 1,
        product_id: l.productId,
        variant_id: l.variantId,
        quantity: l.quantity,
        currency: l.unitPrice.currency,
        unit_price_minor: l.unitPrice.amountMinor.toString(),
        line_total_minor: l.lineTotal.amountMinor.toString(),
      })),
    ),
    history: historyJson(o.history),
    ...eventParams(event),
    ...timelineParams({ kind: "CREATED", order: o }),
  };
}

export interface OrderStatements {
  /** The record, or after its purge the order `orderId` made by that request (no payload hash). */
  findRecord(customerId: string, requestId: string, orderId: string): Promise<IdempotencyRecord | undefined>;
  /** The number of the order this call stored; undefined when the idempotency record already existed (nothing stored). */
  insert(order: Order, payloadHash: string): Promise<string | undefined>;
  setReservationState(id: string, from: readonly ReservationState[], to: ReservationState): Promise<boolean>;
  /** Writes a status decision (status, reservation state, history, event) if the order is still `expectedVersion`. */
  applyIfUnchanged(decision: Decision, expectedVersion: number): Promise<boolean>;
  moveReservation(id: string, from: string, to: string): Promise<boolean>;
}

export function createOrderStatements(db: Db): OrderStatements {
  const findRecord = prepareStatement<{ orderId: string; payloadHash: string | null }>(db, "orders_find_idempotency_record", FIND_RECORD);
  const insert = prepareStatement<{ orderId: string; number: string }>(db, "orders_insert_order", INSERT_ORDER);
  const setState = prepareStatement<{ id: string }>(db, "orders_set_reservation_state", SET_RESERVATION_STATE);
  const apply = prepareStatement<{ id: string }>(db, "orders_apply_if_unchanged", APPLY_IF_UNCHANGED);
  const move = prepareStatement<{ id: string }>(db, "orders_move_reservation", MOVE_RESERVATION);
  return {
    async findRecord(customerId, requestId, orderId) {
      const [row] = await findRecord({ customerId: customerId.toLowerCase(), requestId, orderId });
      return row && { orderId: row.orderId, payloadHash: row.payloadHash ?? undefined };
    },
    insert: async (order, payloadHash) => (await insert(insertValues(order, payloadHash)))[0]?.number,
    setReservationState: async (id, from, to) => (await setState({ id, from: [...from], to })).length > 0,
    applyIfUnchanged: async (decision, expectedVersion) => (await apply(applyValues(decision, expectedVersion))).length > 0,
    moveReservation: async (id, from, to) => (await move({ id, from, to })).length > 0,
  };
}
