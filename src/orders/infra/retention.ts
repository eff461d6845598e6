/**
 * What the orders service purges once past its window (platform/retention.ts
 * runs it, on the leader of the orders retention lock): idempotency records
 * older than RETENTION_IDEMPOTENCY_HOURS. Their order stays, and with its
 * deterministic id it answers a later retry of the same request on its own
 * (order-statements.ts FIND_RECORD, create-order.ts `replay`).
 *
 * and, where a relay publishes them, outbox rows published longer ago than
 * RETENTION_OUTBOX_HOURS (never a row not yet published, nor a dead letter:
 * outbox-store.ts).
 *
 * Not purged: orders, their lines and history — the record of the business.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import type { PurgeTarget } from "../../platform/retention.js";
import { prepareStatement } from "../../platform/statements.js";
import type { OutboxStore } from "../../platform/events/outbox-store.js";

const p = sql.placeholder;

/*
 * At most `limit` rows, oldest first through idempotency_keys_create_time_idx,
 * deleted by their row address (a TID scan, whatever the planner thinks of a
 * join); the rows are locked by the inner select, so their addresses hold.
 */
const PURGE_IDEMPOTENCY_RECORDS = sql`
with gone as (
  delete from orders.idempotency_keys
  where ctid = any(array(
    select ctid from orders.idempotency_keys
    where create_time < ${p("cutoff")}::timestamptz
    order by create_time
    limit ${p("limit")}::int
    for update skip locked))
  returning 1
)
select count(*)::int as n from gone`;

export interface OrdersRetentionWindows {
  /** RETENTION_IDEMPOTENCY_HOURS; 0: kept for ever. */
  readonly idempotencyHours: number;
  /** RETENTION_OUTBOX_HOURS, after publishing; 0 (default): kept for ever. */
  readonly outboxHours?: number;
}

export function ordersPurgeTargets(db: Db, w: OrdersRetentionWindows, outbox?: Pick<OutboxStore, "purgePublished">): PurgeTarget[] {
  const purgeRecords = prepareStatement<{ n: number }>(db, "orders_purge_idempotency_records", PURGE_IDEMPOTENCY_RECORDS);
  return [
    {
      table: "orders.idempotency_keys",
      hours: w.idempotencyHours,
      deleteBatch: async (cutoff, limit) => Number((await purgeRecords({ cutoff: cutoff.toISOString(), limit }))[0]?.n ?? 0),
    },
    ...(outbox ? [{ table: "orders.outbox", hours: w.outboxHours ?? 0, deleteBatch: (cutoff: Date, limit: number) => outbox.purgePublished(cutoff, limit) }] : []),
  ];
}
