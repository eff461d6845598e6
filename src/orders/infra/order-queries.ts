/**
 * Reads: one order and a keyset page, each ONE statement (the order's columns
 * plus its lines and history as json aggregates, see `orderWithChildren`), and
 * loading lines + history for rows the repository read itself (`hydrate`:
 * rows locked for update, the reconciler's queue).
 *
 * Both reads run as prepared statements (`.prepare(name)`): postgres-js then
 * keeps a named server-side statement per connection and, once it has it,
 * sends Bind/Execute only — one network round trip. Unprepared, postgres-js
 * sends every parameterised query as Parse/Describe, waits for the parameter
 * types, then Bind/Execute: two. PGlite ignores the name. ListOrders SQL
 * varies only with which filters are set and how many statuses (≤ 5), so
 * each connection keeps at most a few hundred such statements; SearchOrders'
 * (order-search.ts) with more filters, each bounded the same way. On our
 * side each shape is also built once (`orderPage`): its values are
 * placeholders, filled per call.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import { placeholders, shapeOf, type PageFilter } from "../../platform/statements.js";
import type { Order } from "../domain/order.js";
import type { ListCursor, ListQuery } from "../domain/ports.js";
import {
  fromOrderWithChildren,
  orderWithChildren,
  toOrder,
  type HistoryRow,
  type LineRow,
  type OrderRow,
} from "./order-rows.js";
import { orderHistory, orderLines, orders } from "./schema.js";

export async function findOrder(db: Db, id: string, includeDeleted: boolean): Promise<Order | undefined> {
  const find = findStatements(db);
  const [row] = await (includeDeleted ? find.any : find.live).execute({ id });
  return row && fromOrderWithChildren(row);
}

/** Built once per handle: the SQL is fixed, only the id varies. */
const findStatementsOf = new WeakMap<Db, ReturnType<typeof prepareFind>>();

function findStatements(db: Db): ReturnType<typeof prepareFind> {
  let statements = findStatementsOf.get(db);
  if (!statements) findStatementsOf.set(db, (statements = prepareFind(db)));
  return statements;
}

function prepareFind(db: Db) {
  const byId = eq(orders.id, sql.placeholder("id"));
  const select = () => db.select(orderWithChildren).from(orders);
  return {
    live: select().where(and(byId, isNull(orders.deleteTime))).prepare("orders_find_live"),
    any: select().where(byId).prepare("orders_find_any"),
  };
}

/** Orders of `rows` with their lines and history, in the rows' order: two queries whatever the count. */
export async function hydrate(db: Db, rows: readonly OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [lines, history] = await Promise.all([
    db.select().from(orderLines).where(inArray(orderLines.orderId, ids)),
    db.select().from(orderHistory).where(inArray(orderHistory.orderId, ids)),
  ]);
  const linesOf = groupBy(lines, (l) => l.orderId);
  const historyOf = groupBy(history, (h) => h.orderId);
  return rows.map((r) => toOrder(r, linesOf.get(r.id) ?? [], historyOf.get(r.id) ?? []));
}

function groupBy<T extends LineRow | HistoryRow>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/**
 * A keyset page: `(create_time, id)` strictly after the cursor in the
 * requested direction. Served by the partial (customer_id | status,
 * create_time, id) indexes; no OFFSET.
 */
export function listOrders(db: Db, query: ListQuery, after: ListCursor | undefined, limit: number): Promise<Order[]> {
  return orderPage(db, "orders_list", listFilters(query, after), query.descending, limit);
}

/**
 * ListQuery's filters and the keyset position, which SearchOrders narrows
 * further (order-search.ts). Times travel as ISO text and the server types
 * them from the column (a placeholder skips Drizzle's column encoding).
 */
export function listFilters(query: ListQuery, after: ListCursor | undefined): PageFilter[] {
  const filters: PageFilter[] = [{ key: "live", where: () => isNull(orders.deleteTime) }];
  if (query.customerId) {
    filters.push({ key: "customer", values: { customerId: query.customerId.toLowerCase() }, where: () => eq(orders.customerId, sql.placeholder("customerId")) });
  }
  if (query.statuses.length > 0) {
    const { values, refs } = placeholders("status", query.statuses);
    filters.push({ key: `status${refs.length}`, values, where: () => inArray(orders.status, refs) });
  }
  if (query.createTimeStart) {
    filters.push({ key: "from", values: { createTimeStart: query.createTimeStart.toISOString() }, where: () => gte(orders.createTime, sql.placeholder("createTimeStart")) });
  }
  if (query.createTimeEnd) {
    filters.push({ key: "to", values: { createTimeEnd: query.createTimeEnd.toISOString() }, where: () => lt(orders.createTime, sql.placeholder("createTimeEnd")) });
  }
  if (after) filters.push(afterCursor(after, query.descending));
  return filters;
}

/** Prepared page statements per handle, by shape; a bounded set (see the header), capped in case. */
const pageStatementsOf = new WeakMap<Db, Map<string, ReturnType<typeof preparePage>>>();
const MAX_PAGE_STATEMENTS = 1000;

/**
 * The first `limit` orders meeting every filter, in keyset order. The
 * statement is built and prepared once per shape (name, direction, the
 * filters' keys) and handle, then only executed with the values: building a
 * select of ~35 columns through Drizzle costs about a millisecond of CPU,
 * more than the rest of a page (BENCHMARKS "GetOrder and ListOrders after issue 14").
 */
export async function orderPage(db: Db, name: string, filters: readonly PageFilter[], descending: boolean, limit: number): Promise<Order[]> {
  let statements = pageStatementsOf.get(db);
  if (!statements) pageStatementsOf.set(db, (statements = new Map()));
  const shape = shapeOf(filters, { limit });
  const key = `${name}|${descending ? "desc" : "asc"}|${shape.key}`;
  let statement = statements.get(key);
  if (!statement) {
    if (statements.size >= MAX_PAGE_STATEMENTS) statements.clear();
    statements.set(key, (statement = preparePage(db, name, filters, descending)));
  }
  const rows = await statement.execute(shape.values);
  return rows.map(fromOrderWithChildren);
}

function preparePage(db: Db, name: string, filters: readonly PageFilter[], descending: boolean) {
  const dir = descending ? desc : asc;
  return db
    .select(orderWithChildren)
    .from(orders)
    .where(and(...filters.map((f) => f.where())))
    .orderBy(dir(orders.createTime), dir(orders.id))
    .limit(sql.placeholder("limit"))
    .prepare(name);
}

function afterCursor(c: ListCursor, descending: boolean): PageFilter {
  const at = sql`(${sql.placeholder("afterTime")}::timestamptz, ${sql.placeholder("afterId")}::uuid)`;
  return {
    key: descending ? "before" : "after",
    values: { afterTime: new Date(c.createTimeMs).toISOString(), afterId: c.id },
    where: () => (descending ? sql`(${orders.createTime}, ${orders.id}) < ${at}` : sql`(${orders.createTime}, ${orders.id}) > ${at}`),
  };
}
