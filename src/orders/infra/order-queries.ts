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
 * (order-search.ts) with more filters, each bounded the same way.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
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
  return orderPage(db, "orders_list", listConditions(query, after), query.descending, limit);
}

/** ListQuery's filters and the keyset position (undefined: not set), which SearchOrders narrows further (order-search.ts). */
export function listConditions(query: ListQuery, after: ListCursor | undefined): (SQL | undefined)[] {
  return [
    isNull(orders.deleteTime),
    query.customerId ? eq(orders.customerId, query.customerId.toLowerCase()) : undefined,
    query.statuses.length > 0 ? inArray(orders.status, [...query.statuses]) : undefined,
    query.createTimeStart ? gte(orders.createTime, query.createTimeStart) : undefined,
    query.createTimeEnd ? lt(orders.createTime, query.createTimeEnd) : undefined,
    after ? afterCursor(after, query.descending) : undefined,
  ];
}

/** The first `limit` orders meeting every condition, in keyset order, as the prepared statement `name`. */
export async function orderPage(db: Db, name: string, conditions: readonly (SQL | undefined)[], descending: boolean, limit: number): Promise<Order[]> {
  const dir = descending ? desc : asc;
  const rows = await db
    .select(orderWithChildren)
    .from(orders)
    .where(and(...conditions))
    .orderBy(dir(orders.createTime), dir(orders.id))
    .limit(limit)
    .prepare(name)
    .execute();
  return rows.map(fromOrderWithChildren);
}

function afterCursor(c: ListCursor, descending: boolean): SQL {
  const at = new Date(c.createTimeMs).toISOString();
  return descending
    ? sql`(${orders.createTime}, ${orders.id}) < (${at}::timestamptz, ${c.id}::uuid)`
    : sql`(${orders.createTime}, ${orders.id}) > (${at}::timestamptz, ${c.id}::uuid)`;
}
