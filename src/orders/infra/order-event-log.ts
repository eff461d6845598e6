/**
 * The order's event log for a resumed WatchOrder: the outbox rows of one
 * order after a version, oldest first, each decoded back into the change it
 * recorded (rpc/recorded-orders.ts). One prepared statement through
 * outbox_aggregate_idx (aggregate_id, version). Rows written before the
 * events contract have no version and are never returned; retention purges
 * published rows after RETENTION_OUTBOX_HOURS: the caller sees either as a
 * gap in the versions.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { prepareStatement } from "../../platform/statements.js";
import type { OrderEventLog } from "../domain/ports.js";
import { recordedChangeOf } from "../rpc/recorded-orders.js";
import { outbox } from "./schema.js";

const p = sql.placeholder;

const CHANGES_AFTER = sql`
select ${outbox.version} as version, ${outbox.eventType} as type, ${outbox.payload}::text as payload
from ${outbox}
where ${outbox.aggregateId} = ${p("orderId")}::uuid and ${outbox.version} > ${p("after")}::int
order by ${outbox.version}
limit ${p("limit")}::int`;

export function createOrderEventLog(db: Db): OrderEventLog {
  const changesAfter = prepareStatement<{ version: number; type: string; payload: string }>(db, "orders_changes_after", CHANGES_AFTER);
  return {
    async after(orderId, version, limit) {
      const rows = await changesAfter({ orderId, after: version, limit });
      return rows.map((r) => recordedChangeOf(r.version, r.type, JSON.parse(r.payload) as unknown));
    },
  };
}
