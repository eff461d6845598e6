/**
 * The order's timeline (orders.order_timeline): one row per change, written
 * by the statement that writes the change's outbox row, so it has exactly
 * one entry per version whatever path made the change — CreateOrder's
 * insert and the confirm (order-statements.ts: one more CTE each), the
 * repository's transactions (`eventRowsStatement`: the entries a CTE of the
 * outbox insert). No write pays a round trip for it. What an entry says
 * comes from the domain (domain/timeline.ts). Read a page at a time
 * (ListOrderTimeline) in one prepared statement through the primary key
 * (order_id, id).
 */
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { prepareStatement } from "../../platform/statements.js";
import type { OrderTimelineLog, StoredTimelineEntry } from "../domain/ports.js";
import { timelineEntryOf, type TimelineEntry, type TimelineSource } from "../domain/timeline.js";
import type { Decision } from "../domain/transition.js";
import { decisionEvents } from "./order-rows.js";
import { orderTimeline, outbox } from "./schema.js";

const p = sql.placeholder;

/**
 * The timeline entry of the change a single-statement write makes, as one
 * CTE of it: `from` names the CTE that returns the order's id only when the
 * write happened (`created`, `applied`), so nothing is written otherwise.
 * Its parameters: `timelineParams`.
 */
export const insertTimelineEntryFrom = (from: "created" | "applied") => sql`
  insert into orders.order_timeline (order_id, version, type, summary, reason, actor, subject_id, currency, amount_minor, staff_only, change_time)
  select w.id, ${p("timelineVersion")}::int, ${p("timelineType")}, ${p("timelineSummary")}, ${p("timelineReason")}, ${p("timelineActor")},
    ${p("timelineSubjectId")}, ${p("timelineCurrency")}, ${p("timelineAmountMinor")}::bigint, ${p("timelineStaffOnly")}::boolean,
    ${p("timelineTime")}::timestamptz
  from ${sql.raw(from)} w`;

/** The parameters of `insertTimelineEntryFrom` for the change `e`. */
export function timelineParams(e: TimelineSource): Record<string, unknown> {
  const t = timelineEntryOf(e);
  return {
    timelineVersion: t.version ?? null,
    timelineType: t.type,
    timelineSummary: t.summary,
    timelineReason: t.reason,
    timelineActor: t.actor,
    timelineSubjectId: t.subjectId ?? null,
    timelineCurrency: t.amount?.currency ?? null,
    timelineAmountMinor: t.amount?.amountMinor.toString() ?? null,
    timelineStaffOnly: t.staffOnly,
    timelineTime: t.at.toISOString(),
  };
}

function timelineValues(orderId: string, t: TimelineEntry): typeof orderTimeline.$inferInsert {
  return {
    orderId,
    version: t.version ?? null,
    type: t.type,
    summary: t.summary,
    reason: t.reason,
    actor: t.actor,
    subjectId: t.subjectId ?? null,
    currency: t.amount?.currency ?? null,
    amountMinor: t.amount?.amountMinor ?? null,
    staffOnly: t.staffOnly,
    changeTime: t.at,
  };
}

/**
 * A decision's outbox rows and timeline entries (one each per version) as
 * ONE statement — the entries a data-modifying CTE of the outbox insert —
 * for the repository's transactions: the timeline costs them no round trip.
 * Built by Drizzle per call, as the outbox insert it replaces was.
 */
export function eventRowsStatement(db: Db, d: Decision): SQL {
  const id = d.order.id;
  const entries = db.insert(orderTimeline).values(d.events.map((e) => timelineValues(id, timelineEntryOf(e))));
  const events = db.insert(outbox).values(decisionEvents(d));
  return sql`with timeline as (${entries.getSQL()}) ${events.getSQL()}`;
}

/*
 * One page and the order's owner in one statement: the order (live only)
 * left-joined to its entries after the key, so an order with no entry left
 * still answers (its owner, no entries) and a missing one answers no row.
 */
const PAGE = sql`
select o.customer_id::text as "customerId", t.id::float8 as id, t.version, t.type, t.summary, t.reason, t.actor,
  t.subject_id as "subjectId", t.currency, t.amount_minor::text as "amountMinor", t.staff_only as "staffOnly",
  floor(extract(epoch from t.change_time) * 1000)::float8 as "changeMs"
from orders.orders o
left join lateral (
  select * from orders.order_timeline e
  where e.order_id = o.id and e.id > ${p("after")}::bigint and (${p("all")}::boolean or not e.staff_only)
  order by e.id
  limit ${p("limit")}::int
) t on true
where o.id = ${p("orderId")}::uuid and o.delete_time is null
order by t.id`;

interface PageRow {
  customerId: string;
  id: number | null;
  version: number | null;
  type: string;
  summary: string;
  reason: string;
  actor: string;
  subjectId: string | null;
  currency: string | null;
  amountMinor: string | null;
  staffOnly: boolean;
  changeMs: number;
}

function toEntry(r: PageRow & { id: number }): StoredTimelineEntry {
  return {
    id: Number(r.id),
    version: r.version ?? undefined,
    type: r.type,
    summary: r.summary,
    reason: r.reason,
    actor: r.actor,
    subjectId: r.subjectId ?? undefined,
    amount: r.currency !== null && r.amountMinor !== null ? { currency: r.currency, amountMinor: BigInt(r.amountMinor) } : undefined,
    staffOnly: r.staffOnly,
    at: new Date(Number(r.changeMs)),
  };
}

export function createOrderTimelineLog(db: Db): OrderTimelineLog {
  const page = prepareStatement<PageRow>(db, "orders_timeline_page", PAGE);
  return {
    async page(orderId, { afterId, limit, staffOnly }) {
      const rows = await page({ orderId, after: afterId ?? 0, all: staffOnly, limit });
      if (rows.length === 0) return undefined;
      const entries = rows.filter((r): r is PageRow & { id: number } => r.id !== null).map(toEntry);
      return { customerId: rows[0]!.customerId, entries };
    },
  };
}
