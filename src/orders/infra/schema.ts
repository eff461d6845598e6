/**
 * The orders service's tables, in their own Postgres schema. Money is bigint
 * minor units. Create times are stored at millisecond precision so keyset
 * page tokens (epoch ms) compare exactly.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  uniqueIndex,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

export const ordersSchema = pgSchema("orders");

/**
 * Order numbers (README "Orders"): a person can say them on the phone. A
 * sequence, not a counter row: CreateOrder never waits on another order for
 * its number. Numbers only grow; a rolled-back CreateOrder leaves a gap.
 */
export const orderNumbers = ordersSchema.sequence("order_number_seq", { startWith: 100001 });

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

export interface AddressJson {
  recipientName: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

/** One return as `orders.returns` stores it: money as a decimal string. */
export interface ReturnJson {
  id: string;
  requestId: string;
  status: string;
  lines: { lineNo: number; quantity: number }[];
  reason: string;
  refundMinor: string | null;
  createTime: string;
  updateTime: string;
}

/** One staff note as `orders.staff_notes` stores it. */
export interface StaffNoteJson {
  id: string;
  requestId: string;
  text: string;
  author: string;
  createTime: string;
}

/** One restock as `orders.restocks` stores it. */
export interface RestockJson {
  id: string;
  kind: string;
  lines: { lineNo: number; quantity: number }[];
  state: string;
  createTime: string;
}

/** One shipment as `orders.shipments` stores it: times in ISO 8601. */
export interface ShipmentJson {
  id: string;
  requestId: string;
  status: string;
  lines: { lineNo: number; quantity: number }[];
  carrier: string | null;
  trackingNumber: string | null;
  createTime: string;
  shipTime: string | null;
  deliverTime: string | null;
}

export const orders = ordersSchema.table(
  "orders",
  {
    id: uuid("id").primaryKey(),
    /** Assigned by the insert (order_number_seq). */
    number: bigint("number", { mode: "bigint" })
      .notNull()
      .default(sql`nextval('orders.order_number_seq')`),
    customerId: uuid("customer_id").notNull(),
    requestId: text("request_id").notNull(),
    status: text("status").notNull(),
    currency: text("currency").notNull(),
    totalMinor: bigint("total_minor", { mode: "bigint" }).notNull(),
    shippingAddress: jsonb("shipping_address").$type<AddressJson>(),
    carrier: text("carrier"),
    trackingNumber: text("tracking_number"),
    reservationId: text("reservation_id").notNull(),
    reservationState: text("reservation_state").notNull(),
    // The payment (domain/payment.ts), in minor units of `currency`: a new order's is PENDING and zero.
    paymentStatus: text("payment_status").notNull().default("PENDING"),
    authorizedMinor: bigint("authorized_minor", { mode: "bigint" }).notNull().default(sql`0`),
    capturedMinor: bigint("captured_minor", { mode: "bigint" }).notNull().default(sql`0`),
    refundedMinor: bigint("refunded_minor", { mode: "bigint" }).notNull().default(sql`0`),
    refundPendingMinor: bigint("refund_pending_minor", { mode: "bigint" }).notNull().default(sql`0`),
    /**
     * The order's shipments (domain/fulfilment.ts), oldest first: part of the aggregate, changed
     * only under the order's row lock, read with the row (no further query on GetOrder).
     */
    shipments: jsonb("shipments").$type<ShipmentJson[]>().notNull().default(sql`'[]'::jsonb`),
    /** Derived from `shipments` on every write; kept as a column for search. */
    fulfilmentStatus: text("fulfilment_status").notNull().default("UNFULFILLED"),
    /** Stock given back after the sale (domain/fulfilment.ts Restock), oldest first. */
    restocks: jsonb("restocks").$type<RestockJson[]>().notNull().default(sql`'[]'::jsonb`),
    /** Returns of delivered units (domain/returns.ts), oldest first. */
    returns: jsonb("returns").$type<ReturnJson[]>().notNull().default(sql`'[]'::jsonb`),
    /** Whether a restock waits for inventory's confirmation: the reconciler's queue (derived on every write). */
    restockPending: boolean("restock_pending").notNull().default(false),
    /** The customer's note from checkout (CreateOrder). */
    customerNote: text("customer_note").notNull().default(""),
    /** Staff notes (AddOrderNote), oldest first; never shown to customers. */
    staffNotes: jsonb("staff_notes").$type<StaffNoteJson[]>().notNull().default(sql`'[]'::jsonb`),
    /** Tags (UpdateOrderTags), sorted and unique; searched through orders_tags_idx. */
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    /** Metadata for other systems (UpdateOrderMetadata): string keys to string values. */
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    version: integer("version").notNull(),
    createTime: ts("create_time").notNull(),
    updateTime: ts("update_time").notNull(),
    deleteTime: ts("delete_time"),
  },
  (t) => [
    uniqueIndex("orders_number_key").on(t.number),
    // The payment's amounts never pass each other or the total, whatever a bug upstream would write.
    check(
      "orders_payment_amounts_check",
      sql`0 <= ${t.refundedMinor} and ${t.refundedMinor} <= ${t.capturedMinor} and ${t.capturedMinor} <= ${t.authorizedMinor}
        and ${t.authorizedMinor} <= ${t.totalMinor} and 0 <= ${t.refundPendingMinor}
        and ${t.refundPendingMinor} <= ${t.capturedMinor} - ${t.refundedMinor}`,
    ),
    // A customer's page: an index range scan on (customer_id, create_time, id).
    index("orders_customer_page_idx")
      .on(t.customerId, t.createTime, t.id)
      .where(sql`${t.deleteTime} is null`),
    index("orders_page_idx").on(t.createTime, t.id).where(sql`${t.deleteTime} is null`),
    index("orders_status_page_idx").on(t.status, t.createTime, t.id).where(sql`${t.deleteTime} is null`),
    // SearchOrders (README "Finding orders"): one index per filter; number and number prefix use orders_number_key.
    index("orders_payment_status_page_idx")
      .on(t.paymentStatus, t.createTime, t.id)
      .where(sql`${t.deleteTime} is null`),
    index("orders_fulfilment_status_page_idx")
      .on(t.fulfilmentStatus, t.createTime, t.id)
      .where(sql`${t.deleteTime} is null`),
    index("orders_tags_idx").using("gin", t.tags).where(sql`${t.deleteTime} is null`),
    index("orders_restock_pending_idx")
      .on(t.updateTime)
      .where(sql`${t.restockPending}`),
    // The reconciler's work queue stays tiny: only unsettled reservations.
    index("orders_unsettled_idx")
      .on(t.updateTime)
      .where(sql`${t.reservationState} in ('PENDING', 'RELEASE_PENDING')`),
  ],
);

export const orderLines = ordersSchema.table(
  "order_lines",
  {
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    lineNo: integer("line_no").notNull(),
    productId: uuid("product_id").notNull(),
    variantId: text("variant_id").notNull(),
    quantity: integer("quantity").notNull(),
    currency: text("currency").notNull(),
    unitPriceMinor: bigint("unit_price_minor", { mode: "bigint" }).notNull(),
    lineTotalMinor: bigint("line_total_minor", { mode: "bigint" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.lineNo] })],
);

export const orderHistory = ordersSchema.table(
  "order_history",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    reason: text("reason").notNull(),
    actor: text("actor").notNull(),
    changeTime: ts("change_time").notNull(),
  },
  (t) => [index("order_history_order_idx").on(t.orderId, t.id)],
);

/**
 * The order's timeline (ListOrderTimeline): one entry per change, i.e. per
 * version and outbox event, written in the change's statement. Unlike the
 * outbox it is kept as long as the order. Entries from before the timeline
 * existed were copied from order_history with no version (migration 0010).
 * One index: the primary key (order_id, id) serves the order's pages.
 */
export const orderTimeline = ordersSchema.table(
  "order_timeline",
  {
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    id: bigserial("id", { mode: "number" }).notNull(),
    /** The order's version after the change; null for entries copied from order_history. */
    version: integer("version"),
    /** The published event's type, e.g. "orders.v1.OrderStatusChanged". */
    type: text("type").notNull(),
    summary: text("summary").notNull(),
    reason: text("reason").notNull().default(""),
    actor: text("actor").notNull(),
    subjectId: text("subject_id"),
    currency: text("currency"),
    amountMinor: bigint("amount_minor", { mode: "bigint" }),
    staffOnly: boolean("staff_only").notNull().default(false),
    changeTime: ts("change_time").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.id] })],
);

/**
 * Every payment report an order took (ReportPayment), by the provider's
 * event id: the reports' idempotency record (a repeat finds its row; the
 * same id with another report is refused) and their audit trail. Written in
 * the transaction of the change it made.
 */
export const paymentReports = ordersSchema.table(
  "payment_reports",
  {
    providerEventId: text("provider_event_id").primaryKey(),
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    currency: text("currency").notNull(),
    amountMinor: bigint("amount_minor", { mode: "bigint" }).notNull(),
    reason: text("reason").notNull(),
    actor: text("actor").notNull(),
    /** The order's version after the report's change. */
    version: integer("version").notNull(),
    reportTime: ts("report_time").notNull(),
  },
  (t) => [index("payment_reports_order_idx").on(t.orderId, t.version)],
);

export const idempotencyKeys = ordersSchema.table(
  "idempotency_keys",
  {
    customerId: uuid("customer_id").notNull(),
    requestId: text("request_id").notNull(),
    payloadHash: text("payload_hash").notNull(),
    orderId: uuid("order_id").notNull(),
    createTime: ts("create_time").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.requestId] }),
    // What retention scans (orders/infra/retention.ts): records past their window, oldest first.
    index("idempotency_keys_create_time_idx").on(t.createTime),
  ],
);

/**
 * Change events written in the same transaction as the change (transactional
 * outbox), one per committed change; the relay (outbox-relay.ts) publishes
 * them in id order, which per order is version order: an order's next event
 * is inserted only after its previous one committed (its row is locked, or
 * its version checked, by the writing statement).
 */
export const outbox = ordersSchema.table(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** The CloudEvents id consumers dedupe by. */
    eventId: uuid("event_id").notNull().defaultRandom(),
    aggregateType: text("aggregate_type").notNull().default("order"),
    aggregateId: uuid("aggregate_id").notNull(),
    /** The order's version after the change (null: rows written before the events contract). */
    version: integer("version"),
    eventType: text("event_type").notNull(),
    /** The event message (proto/orders/v1/order_events.proto) in protobuf JSON. */
    payload: jsonb("payload").notNull(),
    /** W3C trace context of the call that made the change, when it was traced. */
    traceparent: text("traceparent"),
    createTime: ts("create_time").notNull(),
    publishTime: ts("publish_time"),
    /** Failed publish attempts, the last one's error, and when the row went to the dead letters. */
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    deadTime: ts("dead_time"),
  },
  (t) => [
    index("outbox_unpublished_idx")
      .on(t.id)
      .where(sql`${t.publishTime} is null and ${t.deadTime} is null`),
    index("outbox_aggregate_idx").on(t.aggregateId, t.version),
    index("outbox_published_idx").on(t.publishTime).where(sql`${t.publishTime} is not null`),
    index("outbox_dead_idx").on(t.deadTime).where(sql`${t.deadTime} is not null`),
  ],
);
