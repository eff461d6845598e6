/**
 * The inventory's tables, in its own Postgres schema. The CHECK constraints
 * are the last line of defence for the stock invariant
 * 0 <= reserved <= stock_on_hand; the repositories' guarded statements are
 * the first. Statuses are text with CHECKs (easier to extend than pg enums).
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  char,
  check,
  foreignKey,
  index,
  bigserial,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const inventorySchema = pgSchema("inventory");

/** Name of the unique index on sku; the repository matches on it. */
export const SKU_UNIQUE_INDEX = "products_sku_key";

const time = (name: string) => timestamp(name, { withTimezone: true, mode: "date" }).notNull();

export const products = inventorySchema.table(
  "products",
  {
    id: uuid("id").primaryKey(),
    sku: text("sku").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** Price of one unit in minor units of `currency`. */
    unitPriceMinor: bigint("unit_price_minor", { mode: "bigint" }).notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    stockOnHand: bigint("stock_on_hand", { mode: "bigint" }).notNull().default(sql`0`),
    reserved: bigint("reserved", { mode: "bigint" }).notNull().default(sql`0`),
    createTime: time("create_time"),
    updateTime: time("update_time"),
  },
  (t) => [
    // Byte order ("C"), whatever the database's default collation: SKUs are
    // ASCII, and ListProducts' keyset pages scan this index in this order.
    uniqueIndex(SKU_UNIQUE_INDEX).on(sql`${t.sku} collate "C"`),
    check("products_stock_on_hand_check", sql`${t.stockOnHand} >= 0`),
    check("products_reserved_check", sql`${t.reserved} >= 0`),
    check("products_reserved_le_stock_check", sql`${t.reserved} <= ${t.stockOnHand}`),
    check("products_unit_price_check", sql`${t.unitPriceMinor} >= 0`),
    check("products_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const reservations = inventorySchema.table(
  "reservations",
  {
    /**
     * The principal that made it (`service:orders`): reservation ids are
     * per owner, so no caller can occupy or touch another's.
     */
    owner: text("owner").notNull(),
    /** Caller-given; with the owner, the idempotency key of ReserveStock. */
    id: text("id").notNull(),
    status: text("status").notNull(),
    expiresAt: time("expires_at"),
    createTime: time("create_time"),
    updateTime: time("update_time"),
  },
  (t) => [
    primaryKey({ name: "reservations_pkey", columns: [t.owner, t.id] }),
    // What the expiry sweep scans: pending reservations by due time.
    index("reservations_pending_expires_at_idx").on(t.expiresAt).where(sql`status = 'PENDING'`),
    // What retention scans (inventory/infra/retention.ts): ended reservations by when they ended.
    index("reservations_ended_update_time_idx").on(t.updateTime).where(sql`status in ('RELEASED', 'EXPIRED')`),
    check("reservations_status_check", sql`${t.status} in ('PENDING', 'COMMITTED', 'RELEASED', 'EXPIRED')`),
  ],
);

export const reservationLines = inventorySchema.table(
  "reservation_lines",
  {
    owner: text("owner").notNull(),
    reservationId: text("reservation_id").notNull(),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    quantity: integer("quantity").notNull(),
    /** The product's unit price captured when the reservation was made. */
    unitPriceMinor: bigint("unit_price_minor", { mode: "bigint" }).notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    /** Units of a committed (sold) line put back into stock by ReturnStock; never more than `quantity`. */
    returnedQuantity: integer("returned_quantity").notNull().default(0),
  },
  (t) => [
    // One line per product; also the lookup of a reservation's lines.
    primaryKey({ name: "reservation_lines_pkey", columns: [t.owner, t.reservationId, t.productId] }),
    foreignKey({
      name: "reservation_lines_reservation_fkey",
      columns: [t.owner, t.reservationId],
      foreignColumns: [reservations.owner, reservations.id],
    }).onDelete("cascade"),
    index("reservation_lines_product_id_idx").on(t.productId),
    check("reservation_lines_quantity_check", sql`${t.quantity} > 0`),
    check("reservation_lines_unit_price_check", sql`${t.unitPriceMinor} >= 0`),
    check("reservation_lines_returned_check", sql`${t.returnedQuantity} >= 0 and ${t.returnedQuantity} <= ${t.quantity}`),
  ],
);

/**
 * The returns a committed reservation took (ReturnStock), each once: the
 * idempotency record of (owner, reservation, return id), with what it
 * returned (lines merged per product, ordered by id) and why. Purged with
 * its reservation (ON DELETE CASCADE).
 */
export const stockReturns = inventorySchema.table(
  "stock_returns",
  {
    owner: text("owner").notNull(),
    reservationId: text("reservation_id").notNull(),
    /** Caller-given; unique per reservation. */
    returnId: text("return_id").notNull(),
    /** [{ productId, quantity }], merged per product and ordered by product id. */
    lines: jsonb("lines").$type<{ productId: string; quantity: number }[]>().notNull(),
    reason: text("reason").notNull(),
    createTime: time("create_time"),
  },
  (t) => [
    primaryKey({ name: "stock_returns_pkey", columns: [t.owner, t.reservationId, t.returnId] }),
    foreignKey({
      name: "stock_returns_reservation_fkey",
      columns: [t.owner, t.reservationId],
      foreignColumns: [reservations.owner, reservations.id],
    }).onDelete("cascade"),
  ],
);

export type ProductRow = typeof products.$inferSelect;
export type ReservationRow = typeof reservations.$inferSelect;
export type ReservationLineRow = typeof reservationLines.$inferSelect;
export type StockReturnRow = typeof stockReturns.$inferSelect;

/**
 * Inventory's own events (stock below its threshold, reservation expired),
 * written in the transaction of the change, published by the relay like the
 * orders' outbox (same shape: platform/outbox-relay.ts).
 */
export const outbox = inventorySchema.table(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    eventId: uuid("event_id").notNull().defaultRandom(),
    aggregateType: text("aggregate_type").notNull(),
    aggregateId: text("aggregate_id").notNull(),
    version: integer("version"),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").notNull(),
    traceparent: text("traceparent"),
    createTime: timestamp("create_time", { withTimezone: true, precision: 3 }).notNull(),
    publishTime: timestamp("publish_time", { withTimezone: true, precision: 3 }),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    deadTime: timestamp("dead_time", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    index("outbox_unpublished_idx")
      .on(t.id)
      .where(sql`${t.publishTime} is null and ${t.deadTime} is null`),
    index("outbox_published_idx").on(t.publishTime).where(sql`${t.publishTime} is not null`),
    index("outbox_dead_idx").on(t.deadTime).where(sql`${t.deadTime} is not null`),
  ],
);
