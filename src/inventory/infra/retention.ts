/**
 * What the inventory service purges once past its window
 * (platform/retention.ts runs it, on the leader of the inventory retention
 * lock): reservations that ended — RELEASED or EXPIRED, their stock already
 * back — more than RETENTION_RESERVATIONS_HOURS ago (by update_time, the
 * time they ended), with their lines (ON DELETE CASCADE). A PENDING or
 * COMMITTED reservation is never purged, whatever its age: it holds or sold
 * stock, and a release must still find it.
 *
 * And, where a relay publishes them, inventory's outbox rows published longer
 * ago than RETENTION_OUTBOX_HOURS (outbox-store.ts `purgePublished`).
 *
 * What a purged id means afterwards: ReserveStock under it holds stock anew
 * (it is a new reservation); commit and release are RESERVATION_NOT_FOUND,
 * and so is a repeat of one of its returns (ReturnStock; its return records
 * go with it, ON DELETE CASCADE; a released reservation took no new ones).
 * The order module reserves an id only for an order not yet stored, and
 * treats NOT_FOUND as a lost hold (commit) or nothing left to give back
 * (release), so neither takes or returns stock twice.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import type { OutboxStore } from "../../platform/events/outbox-store.js";
import type { PurgeTarget } from "../../platform/retention.js";
import { prepareStatement } from "../../platform/statements.js";
import { reservations } from "./schema.js";
import { namesOf } from "../../platform/sql-names.js";

const p = sql.placeholder;
const R = namesOf(reservations);

/*
 * At most `limit` rows, oldest first through the partial
 * reservations_ended_update_time_idx (hence the literal statuses), deleted by
 * their row address (a TID scan; a join back by key was planned as a
 * sequential scan). The inner select locks them, so their addresses hold;
 * skip locked: a row a release is looking at (for update) waits for the next
 * pass. The status is checked again on the row deleted.
 */
const PURGE_ENDED_RESERVATIONS = sql`
with gone as (
  delete from ${R}
  where ctid = any(array(
    select ctid from ${R}
    where ${R.status} in ('RELEASED', 'EXPIRED') and ${R.updateTime} < ${p("cutoff")}::timestamptz
    order by ${R.updateTime}
    limit ${p("limit")}::int
    for update skip locked))
    and ${R.status} in ('RELEASED', 'EXPIRED')
  returning 1
)
select count(*)::int as n from gone`;

export interface InventoryRetentionWindows {
  /** RETENTION_RESERVATIONS_HOURS; 0: kept for ever. */
  readonly reservationsHours: number;
  /** RETENTION_OUTBOX_HOURS: published events (only where a relay publishes them); 0: kept for ever. */
  readonly outboxHours?: number;
}

export function inventoryPurgeTargets(db: Db, w: InventoryRetentionWindows, outbox?: Pick<OutboxStore, "purgePublished">): PurgeTarget[] {
  const purgeEnded = prepareStatement<{ n: number }>(db, "inventory_purge_ended_reservations", PURGE_ENDED_RESERVATIONS);
  return [
    {
      table: "inventory.reservations",
      hours: w.reservationsHours,
      deleteBatch: async (cutoff, limit) => Number((await purgeEnded({ cutoff: cutoff.toISOString(), limit }))[0]?.n ?? 0),
    },
    ...(outbox ? [{ table: "inventory.outbox", hours: w.outboxHours ?? 0, deleteBatch: (cutoff: Date, limit: number) => outbox.purgePublished(cutoff, limit) }] : []),
  ];
}
