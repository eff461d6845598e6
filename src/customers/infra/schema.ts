/**
 * The customers service's tables, in its own Postgres schema. Tier and status
 * are text with CHECK constraints (easier to extend than pg enums).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, pgSchema, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const customersSchema = pgSchema("customers");

/** Name of the unique index on lower(email); the repository matches on it. */
export const EMAIL_UNIQUE_INDEX = "customers_email_lower_key";

export const customers = customersSchema.table(
  "customers",
  {
    id: uuid("id").primaryKey(),
    email: text("email").notNull(),
    displayName: text("display_name").notNull(),
    tier: text("tier").notNull().default("STANDARD"),
    status: text("status").notNull().default("ACTIVE"),
    /** Bumped on every change; the etag. */
    version: integer("version").notNull().default(1),
    createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull(),
    updateTime: timestamp("update_time", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    uniqueIndex(EMAIL_UNIQUE_INDEX).on(sql`lower(${t.email})`),
    // DESC NULLS FIRST is what `order by create_time desc, id desc` scans; NULLS LAST would not match.
    index("customers_create_time_id_idx").on(t.createTime.desc().nullsFirst(), t.id.desc().nullsFirst()),
    check("customers_tier_check", sql`${t.tier} in ('STANDARD', 'VIP')`),
    check("customers_status_check", sql`${t.status} in ('ACTIVE', 'SUSPENDED')`),
    check("customers_version_check", sql`${t.version} >= 1`),
  ],
);

export type CustomerRow = typeof customers.$inferSelect;
