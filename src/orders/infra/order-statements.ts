/**
 * The orders statements CreateOrder runs, each built once (see
 * src/platform/statements.ts): the idempotency lookup, the whole insert of a
 * new order as ONE statement, the version-guarded confirm (APPLY_IF_UNCHANGED)
 * and the guarded reservation moves.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { list, namesOf } from "../../platform/sql-names.js";
import { prepareStatement } from "../../platform/statements.js";
import type { Order, ReservationState } from "../domain/order.js";
import type { IdempotencyRecord } from "../domain/ports.js";
import type { Decision } from "../domain/transition.js";
import { eventValues } from "./order-rows.js";
import { insertTimelineEntryFrom, timelineParams } from "./order-timeline.js";
import { idempotencyKeys, orderHistory, orderLines, orders, outbox } from "./schema.js";

const p = sql.placeholder;

/** Table and column names from the schema (platform/sql-names.ts): `${O}` the table, `${O.customerId}` a column's bare name. */

const K = namesOf(idempotencyKeys);
const O = namesOf(orders);
const L = namesOf(orderLines);
const H = namesOf(orderHistory);
const E = namesOf(outbox);

/*
 * The idempotency record or, once retention purged it (orders/infra/retention.ts),
 * the order it named: an order's id is derived from (customer, request id), so
 * the order row outlives its record as proof of the request (payload hash
 * NULL: the caller compares with the order's own fingerprint). One
 * statement: a primary-key probe per table, no extra round trip.
 */
const FIND_RECORD = sql`
select ${K.orderId} as "orderId", ${K.payloadHash} as "payloadHash" from ${K}
where ${K.customerId} = ${p("customerId")}::uuid and ${K.requestId} = ${p("requestId")}
union all
select o.${O.id}, null::text from ${O} o
where o.${O.id} = ${p("orderId")}::uuid and o.${O.customerId} = ${p("customerId")}::uuid and o.${O.requestId} = ${p("requestId")}
  and not exists (select from ${K} k
    where k.${K.customerId} = ${p("customerId")}::uuid and k.${K.requestId} = ${p("requestId")})`;

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
  insert into ${K} (${list(K.customerId, K.requestId, K.payloadHash, K.orderId, K.createTime)})
  values (${p("customerId")}::uuid, ${p("requestId")}, ${p("payloadHash")}, ${p("id")}::uuid, ${p("createTime")}::timestamptz)
  on conflict do nothing
  returning ${K.orderId} as order_id
), created as (
  insert into ${O} (${list(O.id, O.customerId, O.requestId, O.status, O.currency, O.totalMinor, O.shippingAddress,
    O.carrier, O.trackingNumber, O.reservationId, O.reservationState, O.version, O.createTime, O.updateTime, O.deleteTime, O.customerNote)})
  select order_id, ${p("customerId")}::uuid, ${p("requestId")}, ${p("status")}, ${p("currency")}, ${p("totalMinor")}::bigint,
    ${p("shippingAddress")}::jsonb, ${p("carrier")}, ${p("trackingNumber")}, ${p("reservationId")}, ${p("reservationState")},
    ${p("version")}::int, ${p("createTime")}::timestamptz, ${p("updateTime")}::timestamptz, ${p("deleteTime")}::timestamptz,
    ${p("customerNote")}
  from claimed
  returning ${O.id} as id, ${O.number} as number
), lines as (
  insert into ${L} (${list(L.orderId, L.lineNo, L.productId, L.variantId, L.quantity, L.currency, L.unitPriceMinor, L.lineTotalMinor)})
  select c.id, l.line_no, l.product_id, l.variant_id, l.quantity, l.currency, l.unit_price_minor, l.line_total_minor
  from created c cross join jsonb_to_recordset(${p("lines")}::jsonb) as l(line_no int, product_id uuid, variant_id text,
    quantity int, currency text, unit_price_minor bigint, line_total_minor bigint)
), history as (
  insert into ${H} (${list(H.orderId, H.fromStatus, H.toStatus, H.reason, H.actor, H.changeTime)})
  select c.id, h.from_status, h.to_status, h.reason, h.actor, h.change_time
  from created c cross join rows from (jsonb_to_recordset(${p("history")}::jsonb) as (from_status text, to_status text,
    reason text, actor text, change_time timestamptz)) with ordinality as h(from_status, to_status, reason, actor, change_time, n)
  order by h.n
), event as (
  insert into ${E} (${list(E.aggregateId, E.version, E.eventType, E.payload, E.traceparent, E.createTime)})
  select c.id, ${p("eventVersion")}::int, ${p("eventType")},
    jsonb_set(${p("eventPayload")}::jsonb, '{order,number}', to_jsonb(c.number::text)), ${p("traceparent")}, ${p("eventTime")}::timestamptz
  from created c
), timeline as (${insertTimelineEntryFrom("created")}
)
select c.id as "orderId", c.number::text as "number" from created c`;

const SET_RESERVATION_STATE = sql`
update ${O} set ${O.reservationState} = ${p("to")}
where ${O.id} = ${p("id")}::uuid and ${O.reservationState} = any(${p("from")}::text[])
returning ${O.id} as id`;

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
  update ${O} set ${O.status} = ${p("status")}, ${O.reservationState} = ${p("reservationState")},
    ${O.version} = ${p("version")}::int, ${O.updateTime} = ${p("updateTime")}::timestamptz
  where ${O.id} = ${p("id")}::uuid and ${O.version} = ${p("expectedVersion")}::int and ${O.deleteTime} is null
  returning ${O.id} as id
), history as (
  insert into ${H} (${list(H.orderId, H.fromStatus, H.toStatus, H.reason, H.actor, H.changeTime)})
  select a.id, h.from_status, h.to_status, h.reason, h.actor, h.change_time
  from applied a cross join rows from (jsonb_to_recordset(${p("history")}::jsonb) as (from_status text, to_status text,
    reason text, actor text, change_time timestamptz)) with ordinality as h(from_status, to_status, reason, actor, change_time, n)
  order by h.n
), event as (
  insert into ${E} (${list(E.aggregateId, E.version, E.eventType, E.payload, E.traceparent, E.createTime)})
  select a.id, ${p("eventVersion")}::int, ${p("eventType")}, ${p("eventPayload")}::jsonb, ${p("traceparent")}, ${p("eventTime")}::timestamptz from applied a
), timeline as (${insertTimelineEntryFrom("applied")}
)
select id from applied`;

/* A PENDING order's stock held again under its next reservation id (the previous hold was lost). */
const MOVE_RESERVATION = sql`
update ${O} set ${O.reservationId} = ${p("to")}
where ${O.id} = ${p("id")}::uuid and ${O.reservationId} = ${p("from")} and ${O.status} = 'PENDING' and ${O.reservationState} = 'PENDING'
returning ${O.id} as id`;

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
