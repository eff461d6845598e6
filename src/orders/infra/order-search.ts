/**
 * SearchOrders' query: ListOrders' conditions and keyset page
 * (order-queries.ts) narrowed by the search's own filters, each written so an
 * index can serve it (README "Finding orders"):
 *
 * - number: `number = X`, one probe of orders_number_key;
 * - number prefix: a union of number ranges (`numberRanges`), an OR of
 *   BETWEENs Postgres answers with a BitmapOr of orders_number_key range scans;
 * - payment / fulfilment status: orders_payment_status_page_idx and
 *   orders_fulfilment_status_page_idx, (status, create_time, id) like
 *   orders_status_page_idx: one status is an ordered index scan;
 * - tag: `tags @> array[tag]`, the operator orders_tags_idx (GIN) serves.
 *
 * Tag and number prefix have no index in page order, so a page of them is
 * either a walk of a page index newest first checking the filter (quick when
 * matches are many and recent) or every match from the filter's index, sorted
 * (quick when they are few). Left to itself Postgres picks by its estimate and
 * misjudges both ways: a tag its statistics do not know is estimated at 0.5%
 * of orders and, when nobody has it, walked past every order (760 ms at 1M
 * orders); numbers grow with create time, so the orders of a short prefix
 * ("11") are all old and walked to past 900k newer ones (730 ms). So such a
 * page is found in two bounded steps (`searchInTwoSteps`): the newest WINDOW
 * orders meeting the other filters, then, only if they held less than a page,
 * the filter's own index for the older ones. BENCHMARKS.md "Finding orders"
 * has the plans.
 *
 * The SQL text varies with which filters are set, how many statuses and how
 * many ranges a prefix makes (≤ 18): like ListOrders', a bounded set of
 * prepared statements per connection.
 */
import { and, asc, between, desc, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import type { Order } from "../domain/order.js";
import type { ListCursor, SearchQuery } from "../domain/ports.js";
import { placeholders, shapeOf, type PageFilter } from "../../platform/statements.js";
import { listFilters, orderPage } from "./order-queries.js";
import { orders } from "./schema.js";

/** Order numbers have at most this many digits (the contract's pattern); a bigint holds them. */
export const MAX_NUMBER_DIGITS = 18;

/** The first step's window: the newest orders a tag or prefix search checks before asking the filter's index. */
export const WINDOW = 1000;

/** `window`: WINDOW but in tests of the second step. */
export function searchOrders(db: Db, query: SearchQuery, after: ListCursor | undefined, limit: number, window = WINDOW): Promise<Order[]> {
  // Filters an index in page order (or a single probe) serves.
  const ordered: PageFilter[] = listFilters(query, after);
  if (query.number && "exact" in query.number) {
    ordered.push({ key: "number", values: { number: query.number.exact }, where: () => eq(orders.number, sql.placeholder("number")) });
  }
  if (query.paymentStatuses.length > 0) {
    const { values, refs } = placeholders("payment", query.paymentStatuses);
    ordered.push({ key: `payment${refs.length}`, values, where: () => inArray(orders.paymentStatus, refs) });
  }
  if (query.fulfilmentStatuses.length > 0) {
    const { values, refs } = placeholders("fulfilment", query.fulfilmentStatuses);
    ordered.push({ key: `fulfilment${refs.length}`, values, where: () => inArray(orders.fulfilmentStatus, refs) });
  }
  const unordered: PageFilter[] = [];
  if (query.number && "prefix" in query.number) unordered.push(prefixFilter(query.number.prefix));
  if (query.tag !== undefined) {
    // An array literal of one element: `@>` with a text[] is what the GIN index's operator class takes.
    unordered.push({ key: "tag", values: { tag: query.tag }, where: () => sql`${orders.tags} @> array[${sql.placeholder("tag")}]::text[]` });
  }
  if (unordered.length === 0) return orderPage(db, "orders_search", ordered, query.descending, limit);
  return searchInTwoSteps(db, ordered, unordered, query.descending, limit, window);
}

/**
 * 1. Among the first WINDOW orders in page order meeting `ordered` (their
 *    edge: the WINDOW-th one's create time, a subquery walking the page index
 *    that serves `ordered`), the page of those meeting `unordered` too — a
 *    walk of at most the window, or the filter's index if Postgres prefers.
 * 2. Only if that is less than a page: the rest from the orders past the
 *    edge (none when the window was not full: a one-time filter, nothing
 *    read), found through the filters' indexes (a fenced select: whatever
 *    index suits them, never a walk), sorted by create time and cut to the
 *    page's ids, then read with their lines and history (`id = any(array(…))`,
 *    primary key probes): bounded by how many orders match, never by how many
 *    there are.
 * The windows split the orders at a create time, so step 2 continues step 1
 * exactly (ties at the edge belong to step 1). Like every page, each step is
 * one prepared statement per shape (orderPage): its SQL is built once.
 */
async function searchInTwoSteps(
  db: Db,
  ordered: readonly PageFilter[],
  unordered: readonly PageFilter[],
  descending: boolean,
  limit: number,
  window: number,
): Promise<Order[]> {
  const dir = descending ? desc : asc;
  const whereOf = (filters: readonly PageFilter[]) => filters.map((f) => f.where());
  const edge = () =>
    db
      .select({ createTime: orders.createTime })
      .from(orders)
      .where(and(...whereOf(ordered)))
      .orderBy(dir(orders.createTime), dir(orders.id))
      .offset(sql.placeholder("edgeOffset"))
      .limit(1);
  const inWindow: PageFilter = {
    key: "window",
    values: { edgeOffset: window - 1 },
    where: () =>
      descending
        ? sql`${orders.createTime} >= coalesce((${edge()}), '-infinity'::timestamptz)`
        : sql`${orders.createTime} <= coalesce((${edge()}), 'infinity'::timestamptz)`,
  };
  const recent = await orderPage(db, "orders_search_recent", [...ordered, ...unordered, inWindow], descending, limit);
  if (recent.length >= limit) return recent;
  const rest = limit - recent.length;
  // One filter holding the others (inside its subqueries): their shapes in its key, their values in its own.
  const inner = shapeOf([...ordered, ...unordered], { edgeOffset: window - 1, rest });
  const older: PageFilter = {
    key: `older(${inner.key})`,
    values: inner.values,
    where: () => {
      // Every match, by the filters' own indexes: OFFSET 0 (written out: Drizzle leaves out a zero offset)
      // plans it apart from the page's order, so there is no walk to choose, and keeps the edge below out of
      // it. No edge (fewer orders than the window): the one-time filter, so it reads nothing.
      const matches = db
        .select({ id: orders.id, createTime: orders.createTime })
        .from(orders)
        .where(and(sql`(${edge()}) is not null`, ...whereOf(ordered), ...whereOf(unordered)));
      // Past the edge, outside that select: inside, Postgres would AND a bitmap of the page index's older part.
      const order = sql.raw(descending ? `"create_time" desc, "id" desc` : `"create_time" asc, "id" asc`);
      const page = sql`select "id" from (${matches} offset 0) m where "create_time" ${sql.raw(descending ? "<" : ">")} (${edge()}) order by ${order} limit ${sql.placeholder("rest")}`;
      return sql`${orders.id} = any(array(${page}))`;
    },
  };
  const rows = await orderPage(db, "orders_search_older", [older], descending, rest);
  return [...recent, ...rows];
}

/** Number prefix: one BETWEEN per length (`numberRanges`), an OR Postgres answers with a BitmapOr of orders_number_key range scans. */
function prefixFilter(prefix: string): PageFilter {
  const ranges = numberRanges(prefix);
  const values: Record<string, unknown> = {};
  ranges.forEach(([lo, hi], i) => {
    values[`lo${i}`] = lo.toString();
    values[`hi${i}`] = hi.toString();
  });
  return {
    key: `prefix${ranges.length}`,
    values,
    where: () => or(...ranges.map((_, i) => between(orders.number, sql.placeholder(`lo${i}`), sql.placeholder(`hi${i}`))))!,
  };
}

/**
 * The numbers whose decimal digits start with `prefix`, as inclusive ranges
 * of up to MAX_NUMBER_DIGITS digits: "12" → [12, 12], [120, 129],
 * [1200, 1299], … — one range per length, so each is an index range scan
 * rather than a text match over every row.
 */
export function numberRanges(prefix: string): [bigint, bigint][] {
  const p = BigInt(prefix);
  const ranges: [bigint, bigint][] = [];
  for (let k = 0, scale = 1n; prefix.length + k <= MAX_NUMBER_DIGITS; k++, scale *= 10n) {
    ranges.push([p * scale, (p + 1n) * scale - 1n]);
  }
  return ranges;
}
