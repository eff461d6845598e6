/**
 * Concurrent holds and sells as one statement each (issue 15, hot products).
 *
 * Every hold and every sell locks its products' rows until its commit is on
 * disk. When every order buys the same product (a flash sale) the orders
 * queue on that row: one lock wait and one WAL flush each, one after another
 * (~3 ms a flush on this machine's disk). `batched` (platform/batches.ts)
 * groups the holds — and separately the sells — that arrive while one is in
 * flight into one statement: one lock per product and one flush for the
 * whole group, whatever its size. A lone call runs the single statement of
 * reservation-statements.ts, as before; so do the members of a group that
 * cannot all be settled together.
 *
 * A group's hold is all-or-nothing for the group: it locks the products the
 * group names (in id order, as everywhere), checks that each has stock for
 * the group's total of it — the rule planHold states, on the sums — and only
 * then inserts the reservations, adds the totals to `reserved` (the same
 * guarded update) and records every line. If any member's id exists, or any
 * product is unknown or short for the total, it writes nothing and every
 * member runs its own hold, which reports its own outcome (SHORT with the
 * stock it read, TAKEN): near the end of a sale, a group that does not fit
 * together may still fit in part, and which part is decided one by one, in
 * arrival order. Were a member's id inserted by a racing duplicate between the
 * check and the insert, a line would have no price and reservation_lines
 * refuse it (NOT NULL): the statement fails as a whole and the members run
 * alone — the race's path, not the sale's. No oversell: the guard is on the
 * update, with the rows locked, as for a single hold.
 *
 * A group's sell moves each PENDING, live reservation to COMMITTED and sells
 * the group's total of each product; a reservation that is not PENDING and
 * live is untouched, and its member gets `undefined` as a single sell would.
 * StockLow events: one per product whose available stock the group took
 * below the threshold, the same rule as a single hold's on the group's total
 * (exactly one of the holds, one after another, would have crossed it).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { ALONE, batched } from "../../platform/batches.js";
import { prepareStatement } from "../../platform/statements.js";
import { activeTraceparent } from "../../platform/tracing.js";
import type { Reservation, ReservationRequest } from "../domain/reservation.js";
import { LOW, NO_LOW, SELL, toLine, type HoldOutcome, type LineRow, type ReservationStatements, type SoldRow } from "./reservation-statements.js";
import { products, reservationLines, reservations } from "./schema.js";
import { list, namesOf } from "../../platform/sql-names.js";

const p = sql.placeholder;
const P = namesOf(products);
const R = namesOf(reservations);
const L = namesOf(reservationLines);

/** Most holds (or sells) in one statement. */
export const MAX_BATCH = 64;

/**
 * The group's holds, all or none. `k` numbers the members (1…n, the order of
 * `owners`/`ids`); `lineOf` gives each line's member. Returns one row per
 * line with `created` (how many reservations it inserted: n when it held
 * every one, 0 when it wrote nothing).
 */
const HOLD_GROUP = (stockEvents: boolean) => sql`
with res as (
  -- Times as text[]: postgres-js sends arrays of the types it knows (text, int, uuid), not timestamptz[].
  select owner, id, expires_at::timestamptz as expires_at, now::timestamptz as now, k
  from unnest(${p("owners")}::text[], ${p("ids")}::text[], ${p("expiresAt")}::text[], ${p("nows")}::text[])
    with ordinality as x(owner, id, expires_at, now, k)
), req as (
  select * from unnest(${p("lineOf")}::int[], ${p("productIds")}::uuid[], ${p("quantities")}::int[]) as r(k, product_id, quantity)
), want as (
  select product_id, sum(quantity)::bigint as quantity from req group by product_id
), fresh as (
  select not exists (select from ${R} t join res x on t.${R.owner} = x.owner and t.${R.id} = x.id) as yes
), locked as materialized (
  select pr.${P.id} as id, pr.${P.stockOnHand} as stock_on_hand, pr.${P.reserved} as reserved,
    pr.${P.unitPriceMinor} as unit_price_minor, pr.${P.currency} as currency
  from ${P} pr
  where pr.${P.id} in (select product_id from want) and (select yes from fresh)
  order by pr.${P.id}
  for no key update
), fits as (
  select coalesce(bool_and(coalesce(l.stock_on_hand - l.reserved >= w.quantity, false)), true) and (select yes from fresh) as yes
  from want w left join locked l on l.id = w.product_id
), created as (
  insert into ${R} (${list(R.owner, R.id, R.status, R.expiresAt, R.createTime, R.updateTime)})
  select x.owner, x.id, 'PENDING', x.expires_at, x.now, x.now
  from res x where (select yes from fits)
  on conflict (${list(R.owner, R.id)}) do nothing
  returning ${R.owner} as owner, ${R.id} as id
), held as (
  update ${P} pr
  set ${P.reserved} = pr.${P.reserved} + w.quantity, ${P.updateTime} = greatest(pr.${P.updateTime}, ${p("now")}::timestamptz)
  from locked l join want w on w.product_id = l.id
  where pr.${P.id} = l.id and (select count(*) from created) = ${p("count")}::int and pr.${P.stockOnHand} - pr.${P.reserved} >= w.quantity
  returning pr.${P.id} as id, pr.${P.sku} as sku, pr.${P.stockOnHand} as stock_on_hand, pr.${P.reserved} as reserved, w.quantity,
    pr.${P.unitPriceMinor} as unit_price_minor, pr.${P.currency} as currency
), low as (${stockEvents ? LOW : NO_LOW}
), lines as (
  insert into ${L} (${list(L.owner, L.reservationId, L.productId, L.quantity, L.unitPriceMinor, L.currency)})
  select c.owner, c.id, r.product_id, r.quantity, h.unit_price_minor, h.currency
  from created c join res x on x.owner = c.owner and x.id = c.id join req r on r.k = x.k left join held h on h.id = r.product_id
)
select (select count(*) from created)::int as created, (select count(*) from low)::int as events,
  r.k::int as k, r.product_id as "productId", r.quantity, l.unit_price_minor::text as "unitPriceMinor", l.currency
from req r left join locked l on l.id = r.product_id
order by r.k, r.product_id`;

const latest = (dates: readonly Date[]) => new Date(Math.max(...dates.map((d) => d.getTime())));

interface GroupHoldRow {
  created: number;
  events: number;
  k: number;
  productId: string;
  quantity: number;
  unitPriceMinor: string | null;
  currency: string | null;
}

interface HoldItem {
  readonly request: ReservationRequest;
  readonly threshold: bigint;
  readonly traceparent: string | null;
}

interface SellItem {
  readonly owner: string;
  readonly id: string;
  readonly now: Date;
}

/**
 * `single`'s holds and sells, grouped when they arrive together (see the
 * header). `onGroupError`: a group's statement failed and its members ran
 * alone (a racing duplicate id, or a bug to look at).
 */
export function groupedReservationStatements(
  db: Db,
  stockEvents: boolean,
  single: ReservationStatements,
  onGroupError: (err: unknown, size: number) => void = () => {},
): ReservationStatements {
  const holdGroup = prepareStatement<GroupHoldRow>(db, "inventory_reserve_hold_group", HOLD_GROUP(stockEvents));
  // The single sell's statement, named apart so a group's runs are told from single ones.
  const sellGroup = prepareStatement<SoldRow>(db, "inventory_reserve_sell_group", SELL);
  const key = (owner: string, id: string) => `${owner}\u0000${id}`;

  const hold = batched<HoldItem, HoldOutcome>(
    async (items) => {
      // Each reservation keeps its own times; the products' update time is the group's latest.
      const first = items[0]!;
      const rows = await holdGroup({
        owners: items.map((i) => i.request.owner),
        ids: items.map((i) => i.request.id),
        expiresAt: items.map((i) => i.request.expireTime.toISOString()),
        nows: items.map((i) => i.request.now.toISOString()),
        lineOf: items.flatMap((i, k) => i.request.lines.map(() => k + 1)),
        productIds: items.flatMap((i) => i.request.lines.map((l) => l.productId)),
        quantities: items.flatMap((i) => i.request.lines.map((l) => l.quantity)),
        count: items.length,
        now: latest(items.map((i) => i.request.now)).toISOString(),
        ...(stockEvents ? { threshold: first.threshold.toString(), traceparent: first.traceparent } : {}),
      });
      if ((rows[0]?.created ?? 0) !== items.length) return items.map(() => ALONE);
      const linesOf = new Map<number, GroupHoldRow[]>();
      for (const r of rows) {
        const l = linesOf.get(r.k);
        if (l) l.push(r);
        else linesOf.set(r.k, [r]);
      }
      return items.map((item, i): HoldOutcome => {
        const { id, expireTime, now } = item.request;
        const lines = (linesOf.get(i + 1) ?? []).map((r) => toLine(r as LineRow));
        const reservation: Reservation = { id, status: "PENDING", lines, expireTime, createTime: now, updateTime: now };
        return { kind: "HELD", reservation, events: i === 0 ? rows[0]!.events : 0 };
      });
    },
    (item) => single.hold(item.request, item.threshold),
    { max: MAX_BATCH, keyOf: (i) => key(i.request.owner, i.request.id), onBatchError: onGroupError },
  );

  const sell = batched<SellItem, Reservation | undefined>(
    async (items) => {
      // The strictest clock of the group: a reservation due by any member's now is not sold.
      const now = latest(items.map((i) => i.now));
      const rows = await sellGroup({ owners: items.map((i) => i.owner), ids: items.map((i) => i.id), now: now.toISOString() });
      const byKey = new Map<string, typeof rows>();
      for (const r of rows) {
        const k = key(r.owner, r.id);
        const l = byKey.get(k);
        if (l) l.push(r);
        else byKey.set(k, [r]);
      }
      return items.map((item) => {
        const mine = byKey.get(key(item.owner, item.id));
        const first = mine?.[0];
        if (!first) return undefined;
        return {
          id: item.id,
          status: "COMMITTED",
          lines: mine.map(toLine),
          expireTime: new Date(first.expireMs),
          createTime: new Date(first.createMs),
          updateTime: now,
        } satisfies Reservation;
      });
    },
    (item) => single.sell(item.owner, item.id, item.now),
    { max: MAX_BATCH, keyOf: (i) => key(i.owner, i.id), onBatchError: onGroupError },
  );

  return {
    hold: (request, threshold) => hold({ request, threshold, traceparent: stockEvents ? (activeTraceparent() ?? null) : null }),
    sell: (owner, id, now) => sell({ owner, id, now }),
  };
}
