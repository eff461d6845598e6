/**
 * The two reservation steps of every order, each ONE statement (data-modifying
 * CTEs, see src/platform/statements.ts), with the locks taken in the same
 * order as everywhere else: the reservation row first, then the product rows
 * in id order (a `for no key update` select sorted by id, materialized, so
 * the updates that follow only touch rows this statement already holds).
 *
 * All-or-nothing without a transaction: a statement that cannot do all of its
 * work fails as a whole, and nothing of it stays.
 * - hold: each product's hold is a guarded update (`stock_on_hand - reserved
 *   >= q`); a reservation line takes its price from its product's hold, so a
 *   line whose guard failed (or whose product does not exist) has no price,
 *   reservation_lines refuses it (NOT NULL), and the statement fails.
 * - sell: `reserved - q` below zero is refused by products_reserved_check
 *   (a sell of more than is held is a bug, as in moveStock).
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
import { STOCK_LOW_TYPE } from "../rpc/inventory-events.js";

const p = sql.placeholder;

/** StockLow rows of the products the hold took below the threshold (none when stock events are off: STOCK_LOW_THRESHOLD=0). */
const LOW = sql`
  insert into inventory.outbox (aggregate_type, aggregate_id, event_type, payload, traceparent, create_time)
  select 'product', h.id::text, ${sql.raw(`'${STOCK_LOW_TYPE}'`)},
    jsonb_build_object('productId', h.id::text, 'sku', h.sku, 'available', (h.stock_on_hand - h.reserved)::text,
      'stockOnHand', h.stock_on_hand::text, 'threshold', ${p("threshold")}::bigint::text),
    ${p("traceparent")}::text, ${p("now")}::timestamptz
  from held h
  where h.stock_on_hand - h.reserved < ${p("threshold")}::bigint and h.stock_on_hand - h.reserved + h.quantity >= ${p("threshold")}::bigint
  returning 1`;
const NO_LOW = sql`select 1 where false`;

/** Inserts the reservation (unless its id exists) and, for a new one, holds every line and records it. */
const hold = (stockEvents: boolean) => sql`
with req as (
  select * from unnest(${p("productIds")}::uuid[], ${p("quantities")}::int[]) as r(product_id, quantity)
), created as (
  insert into inventory.reservations (owner, id, status, expires_at, create_time, update_time)
  values (${p("owner")}, ${p("id")}, 'PENDING', ${p("expiresAt")}::timestamptz, ${p("now")}::timestamptz, ${p("now")}::timestamptz)
  on conflict (owner, id) do nothing
  returning owner, id
), locked as materialized (
  select pr.id from inventory.products pr
  where pr.id = any(${p("productIds")}::uuid[]) and exists (select from created)
  order by pr.id
  for no key update
), held as (
  update inventory.products pr
  set reserved = pr.reserved + r.quantity, update_time = greatest(pr.update_time, ${p("now")}::timestamptz)
  from locked l join req r on r.product_id = l.id
  where pr.id = l.id and pr.stock_on_hand - pr.reserved >= r.quantity
  returning pr.id, pr.sku, pr.stock_on_hand, pr.reserved, r.quantity, pr.unit_price_minor, pr.currency
), low as (${stockEvents ? LOW : NO_LOW}
), lines as (
  insert into inventory.reservation_lines (owner, reservation_id, product_id, quantity, unit_price_minor, currency)
  select c.owner, c.id, r.product_id, r.quantity, h.unit_price_minor, h.currency
  from created c cross join req r left join held h on h.id = r.product_id
  returning product_id, quantity, unit_price_minor, currency
)
select product_id as "productId", quantity, unit_price_minor::text as "unitPriceMinor", currency,
  (select count(*) from low)::int as events
from lines order by product_id`;

/** PENDING and not yet due → COMMITTED, selling its stock; nothing for any other reservation. */
const SELL = sql`
with moved as (
  update inventory.reservations set status = 'COMMITTED', update_time = ${p("now")}::timestamptz
  where owner = ${p("owner")} and id = ${p("id")} and status = 'PENDING' and expires_at > ${p("now")}::timestamptz
  returning id, expires_at, create_time
), lines as (
  select l.product_id, l.quantity, l.unit_price_minor, l.currency from inventory.reservation_lines l
  where l.owner = ${p("owner")} and l.reservation_id = ${p("id")} and exists (select from moved)
), locked as materialized (
  select pr.id from inventory.products pr
  where pr.id in (select product_id from lines)
  order by pr.id
  for no key update
), sold as (
  update inventory.products pr
  set stock_on_hand = pr.stock_on_hand - l.quantity, reserved = pr.reserved - l.quantity,
      update_time = greatest(pr.update_time, ${p("now")}::timestamptz)
  from locked k join lines l on l.product_id = k.id
  where pr.id = k.id
)
select l.product_id as "productId", l.quantity, l.unit_price_minor::text as "unitPriceMinor", l.currency,
  floor(extract(epoch from m.expires_at) * 1000)::float8 as "expireMs",
  floor(extract(epoch from m.create_time) * 1000)::float8 as "createMs"
from moved m cross join lines l order by l.product_id`;

interface LineRow {
  productId: string;
  quantity: number;
  unitPriceMinor: string;
  currency: string;
}

const toLine = (r: LineRow): ReservationLine => ({
  productId: r.productId,
  quantity: r.quantity,
  unitPrice: money(r.currency, BigInt(r.unitPriceMinor)),
});

export interface ReservationStatements {
  /**
   * The new reservation, holding every line, and how many StockLow events
   * it wrote (below `threshold`; 0 writes none); undefined when the id exists
   * (nothing changed). Fails (NOT NULL violation, nothing changed) when a
   * line cannot be held: a product is short or unknown.
   */
  hold(request: ReservationRequest, threshold: bigint): Promise<{ reservation: Reservation; events: number } | undefined>;
  /** The committed reservation with its stock sold, or undefined when it was not PENDING and live. */
  sell(owner: string, id: string, now: Date): Promise<Reservation | undefined>;
}

/** `stockEvents`: whether holds write StockLow events (STOCK_LOW_THRESHOLD > 0); off, the statement has no insert for them. */
export function createReservationStatements(db: Db, stockEvents: boolean): ReservationStatements {
  const holdStatement = prepareStatement<LineRow & { events: number }>(db, "inventory_reserve_hold", hold(stockEvents));
  const sell = prepareStatement<LineRow & { expireMs: number; createMs: number }>(db, "inventory_reserve_sell", SELL);
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
      if (rows.length === 0) return undefined;
      const reservation: Reservation = { id, status: "PENDING", lines: rows.map(toLine), expireTime, createTime: now, updateTime: now };
      return { reservation, events: rows[0].events };
    },
    async sell(owner, id, now) {
      const rows = await sell({ owner, id, now: now.toISOString() });
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
