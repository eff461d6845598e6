/**
 * The two reservation steps of every order, each ONE statement (data-modifying
 * CTEs, see src/platform/statements.ts). Table and column names come from the
 * schema (platform/sql-names.ts). Each is all-or-nothing without a transaction.
 *
 * - hold: locks the requested products (`for no key update`, in id order,
 *   materialized), decides from the locked rows whether every line can be
 *   held — each product exists and has `stock_on_hand - reserved >= q`, the
 *   rule planHold states (domain/stock-hold.ts; a test checks the two agree)
 *   — and only then inserts the reservation, holds each line with a guarded
 *   update and records the lines. Otherwise it writes nothing and reports
 *   what it read under lock, one row per line, so the caller can say which
 *   lines could not be held. The guard stays on the update: were it ever to
 *   refuse a line the decision let through, that line would have no price,
 *   reservation_lines would refuse its NULL and the statement fail as a whole
 *   (a bug, never a signal). A reservation id that exists holds nothing.
 *   Locks: the products first, then the reservation's key (its insert), so a
 *   hold waits on a key only for another hold of the same id, which already
 *   has all of its product locks and waits on nothing.
 * - sell: `reserved - q` below zero is refused by products_reserved_check
 *   (a sell of more than is held is a bug, as in moveStock). It locks the
 *   reservation row first (its update), then the product rows in id order.
 *
 * The hold also writes the StockLow event of each product whose available
 * stock it takes below the threshold (inventory-events.ts), in the same
 * statement and so under the same row lock; the event's JSON is built here
 * the way protobuf-es encodes inventory.v1.StockLow (a test compares them).
 * A sell leaves available stock as it was: no event.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { prepareStatement } from "../../platform/statements.js";
import { activeTraceparent } from "../../platform/tracing.js";
import { money } from "../domain/money.js";
import type { Reservation, ReservationLine, ReservationRequest } from "../domain/reservation.js";
import type { StockLevel } from "../domain/stock-hold.js";
import { STOCK_LOW_TYPE } from "../rpc/inventory-events.js";
import { outbox, products, reservationLines, reservations } from "./schema.js";
import { list, namesOf } from "../../platform/sql-names.js";

const p = sql.placeholder;
const P = namesOf(products);
const R = namesOf(reservations);
const L = namesOf(reservationLines);
const E = namesOf(outbox);

/** StockLow rows of the products the hold took below the threshold (none when stock events are off: STOCK_LOW_THRESHOLD=0). */
export const LOW = sql`
  insert into ${E} (${list(E.aggregateType, E.aggregateId, E.eventType, E.payload, E.traceparent, E.createTime)})
  select 'product', h.id::text, ${sql.raw(`'${STOCK_LOW_TYPE}'`)},
    jsonb_build_object('productId', h.id::text, 'sku', h.sku, 'available', (h.stock_on_hand - h.reserved)::text,
      'stockOnHand', h.stock_on_hand::text, 'threshold', ${p("threshold")}::bigint::text),
    ${p("traceparent")}::text, ${p("now")}::timestamptz
  from held h
  where h.stock_on_hand - h.reserved < ${p("threshold")}::bigint and h.stock_on_hand - h.reserved + h.quantity >= ${p("threshold")}::bigint
  returning 1`;
export const NO_LOW = sql`select 1 where false`;

/**
 * Holds every line of a new reservation or none, and says which it did: one
 * row per requested line (a single row with no product for no lines) with
 * the product's stock and price as locked (none for an unknown product) and
 * the outcome — HELD; SHORT (nothing written: a line's product is unknown or
 * short); TAKEN (nothing written: the id exists, or a hold of the same id
 * committed first).
 */
const hold = (stockEvents: boolean) => sql`
with req as (
  select * from unnest(${p("productIds")}::uuid[], ${p("quantities")}::int[]) as r(product_id, quantity)
), fresh as (
  select not exists (select from ${R} where ${R.owner} = ${p("owner")} and ${R.id} = ${p("id")}) as yes
), locked as materialized (
  select pr.${P.id} as id, pr.${P.stockOnHand} as stock_on_hand, pr.${P.reserved} as reserved,
    pr.${P.unitPriceMinor} as unit_price_minor, pr.${P.currency} as currency
  from ${P} pr
  where pr.${P.id} = any(${p("productIds")}::uuid[]) and (select yes from fresh)
  order by pr.${P.id}
  for no key update
), fits as (
  select (select yes from fresh) and not exists (
    select from req r left join locked l on l.id = r.product_id
    where l.id is null or l.stock_on_hand - l.reserved < r.quantity) as yes
), created as (
  insert into ${R} (${list(R.owner, R.id, R.status, R.expiresAt, R.createTime, R.updateTime)})
  select ${p("owner")}, ${p("id")}, 'PENDING', ${p("expiresAt")}::timestamptz, ${p("now")}::timestamptz, ${p("now")}::timestamptz
  where (select yes from fits)
  on conflict (${list(R.owner, R.id)}) do nothing
  returning ${R.owner} as owner, ${R.id} as id
), held as (
  update ${P} pr
  set ${P.reserved} = pr.${P.reserved} + r.quantity, ${P.updateTime} = greatest(pr.${P.updateTime}, ${p("now")}::timestamptz)
  from locked l join req r on r.product_id = l.id
  where pr.${P.id} = l.id and exists (select from created) and pr.${P.stockOnHand} - pr.${P.reserved} >= r.quantity
  returning pr.${P.id} as id, pr.${P.sku} as sku, pr.${P.stockOnHand} as stock_on_hand, pr.${P.reserved} as reserved, r.quantity,
    pr.${P.unitPriceMinor} as unit_price_minor, pr.${P.currency} as currency
), low as (${stockEvents ? LOW : NO_LOW}
), lines as (
  insert into ${L} (${list(L.owner, L.reservationId, L.productId, L.quantity, L.unitPriceMinor, L.currency)})
  select c.owner, c.id, r.product_id, r.quantity, h.unit_price_minor, h.currency
  from created c cross join req r left join held h on h.id = r.product_id
)
select o.outcome, o.events, r.product_id as "productId", r.quantity,
  l.stock_on_hand::text as "stockOnHand", l.reserved::text as reserved, l.unit_price_minor::text as "unitPriceMinor", l.currency
from (
  select case when exists (select from created) then 'HELD' when (select yes from fresh) and not (select yes from fits) then 'SHORT'
    else 'TAKEN' end as outcome,
    (select count(*) from low)::int as events
) o left join (req r left join locked l on l.id = r.product_id) on true
order by r.product_id`;

/**
 * Sells: each named reservation that is PENDING and not yet due → COMMITTED, the total of each
 * product sold; nothing for any other. One reservation (CommitReservation) or a group of them
 * (reservation-batches.ts) run this same text.
 */
export const SELL = sql`
with res as (
  select * from unnest(${p("owners")}::text[], ${p("ids")}::text[]) as x(owner, id)
), moved as (
  update ${R} t set ${R.status} = 'COMMITTED', ${R.updateTime} = ${p("now")}::timestamptz
  from res x
  where t.${R.owner} = x.owner and t.${R.id} = x.id and t.${R.status} = 'PENDING' and t.${R.expiresAt} > ${p("now")}::timestamptz
  returning t.${R.owner} as owner, t.${R.id} as id, t.${R.expiresAt} as expires_at, t.${R.createTime} as create_time
), lines as (
  select l.${L.owner} as owner, l.${L.reservationId} as reservation_id, l.${L.productId} as product_id, l.${L.quantity} as quantity,
    l.${L.unitPriceMinor} as unit_price_minor, l.${L.currency} as currency
  from ${L} l join moved m on l.${L.owner} = m.owner and l.${L.reservationId} = m.id
), want as (
  select product_id, sum(quantity)::bigint as quantity from lines group by product_id
), locked as materialized (
  select pr.${P.id} as id from ${P} pr
  where pr.${P.id} in (select product_id from want)
  order by pr.${P.id}
  for no key update
), sold as (
  update ${P} pr
  set ${P.stockOnHand} = pr.${P.stockOnHand} - w.quantity, ${P.reserved} = pr.${P.reserved} - w.quantity,
      ${P.updateTime} = greatest(pr.${P.updateTime}, ${p("now")}::timestamptz)
  from locked k join want w on w.product_id = k.id
  where pr.${P.id} = k.id
)
select m.owner, m.id, l.product_id as "productId", l.quantity, l.unit_price_minor::text as "unitPriceMinor", l.currency,
  floor(extract(epoch from m.expires_at) * 1000)::float8 as "expireMs",
  floor(extract(epoch from m.create_time) * 1000)::float8 as "createMs"
from moved m join lines l on l.owner = m.owner and l.reservation_id = m.id
order by m.id, l.product_id`;

export interface LineRow {
  productId: string;
  quantity: number;
  unitPriceMinor: string;
  currency: string;
}

/** One row of the hold's report: a requested line with its product as locked (stock and price null: unknown product). */
interface HoldRow {
  outcome: "HELD" | "SHORT" | "TAKEN";
  events: number;
  productId: string | null;
  quantity: number | null;
  stockOnHand: string | null;
  reserved: string | null;
  unitPriceMinor: string | null;
  currency: string | null;
}

/** A sold line of one of the sold reservations, with its reservation's times. */
export type SoldRow = LineRow & { owner: string; id: string; expireMs: number; createMs: number };

export const toLine = (r: LineRow): ReservationLine => ({
  productId: r.productId,
  quantity: r.quantity,
  unitPrice: money(r.currency, BigInt(r.unitPriceMinor)),
});

/** What a hold did. */
export type HoldOutcome =
  /** Every line held; `events` StockLow events written. */
  | { readonly kind: "HELD"; readonly reservation: Reservation; readonly events: number }
  /** Nothing written: some line could not be held. `levels`: the stock and price of every requested product that exists, as read under lock. */
  | { readonly kind: "SHORT"; readonly levels: readonly StockLevel[] }
  /** Nothing written: the id exists (or a hold of the same id committed while this one waited). */
  | { readonly kind: "TAKEN" };

export interface ReservationStatements {
  /** Holds every line of a new reservation or none, in one statement (StockLow events below `threshold`; 0 writes none). */
  hold(request: ReservationRequest, threshold: bigint): Promise<HoldOutcome>;
  /** The committed reservation with its stock sold, or undefined when it was not PENDING and live. */
  sell(owner: string, id: string, now: Date): Promise<Reservation | undefined>;
}

/** `stockEvents`: whether holds write StockLow events (STOCK_LOW_THRESHOLD > 0); off, the statement has no insert for them. */
export function createReservationStatements(db: Db, stockEvents: boolean): ReservationStatements {
  const holdStatement = prepareStatement<HoldRow>(db, "inventory_reserve_hold", hold(stockEvents));
  const sell = prepareStatement<SoldRow>(db, "inventory_reserve_sell", SELL);
  return {
    async hold(request, threshold) {
      const { owner, id, now, expireTime } = request;
      const rows = await holdStatement({
        owner,
        id,
        productIds: request.lines.map((l) => l.productId),
        quantities: request.lines.map((l) => l.quantity),
        expiresAt: expireTime.toISOString(),
        now: now.toISOString(),
        ...(stockEvents ? { threshold: threshold.toString(), traceparent: activeTraceparent() ?? null } : {}),
      });
      const outcome = rows[0]?.outcome;
      const lines = rows.filter((r) => r.productId !== null);
      if (outcome === "TAKEN") return { kind: "TAKEN" };
      if (outcome === "SHORT") return { kind: "SHORT", levels: lines.filter((r) => r.stockOnHand !== null).map(toLevel) };
      if (outcome !== "HELD") throw new Error(`hold of reservation ${id} reported ${String(outcome)}`);
      const reservation: Reservation = { id, status: "PENDING", lines: lines.map((r) => toLine(r as LineRow)), expireTime, createTime: now, updateTime: now };
      return { kind: "HELD", reservation, events: rows[0].events };
    },
    async sell(owner, id, now) {
      const rows = await sell({ owners: [owner], ids: [id], now: now.toISOString() });
      const first = rows[0];
      if (!first) return undefined;
      return {
        id,
        status: "COMMITTED",
        lines: rows.map(toLine),
        expireTime: new Date(first.expireMs),
        createTime: new Date(first.createMs),
        updateTime: now,
      };
    },
  };
}

function toLevel(r: HoldRow): StockLevel {
  return {
    id: r.productId as string,
    stockOnHand: BigInt(r.stockOnHand as string),
    reserved: BigInt(r.reserved as string),
    unitPrice: money(r.currency as string, BigInt(r.unitPriceMinor as string)),
  };
}
