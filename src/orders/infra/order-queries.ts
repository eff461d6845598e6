/** Reads: one order, a keyset page, and loading lines + history for a set of rows. */
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../platform/db.js";
import type { Order } from "../domain/order.js";
import type { ListCursor, ListQuery } from "../domain/ports.js";
import { toOrder, type HistoryRow, type LineRow, type OrderRow } from "./order-rows.js";
import { orderHistory, orderLines, orders } from "./schema.js";

export async function findOrder(db: Db, id: string, includeDeleted: boolean): Promise<Order | undefined> {
  const where = includeDeleted ? eq(orders.id, id) : and(eq(orders.id, id), isNull(orders.deleteTime));
  const rows = await db.select().from(orders).where(where);
  return (await hydrate(db, rows))[0];
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
export async function listOrders(
  db: Db,
  query: ListQuery,
  after: ListCursor | undefined,
  limit: number,
): Promise<Order[]> {
  const conditions: (SQL | undefined)[] = [
    isNull(orders.deleteTime),
    query.customerId ? eq(orders.customerId, query.customerId.toLowerCase()) : undefined,
    query.statuses.length > 0 ? inArray(orders.status, [...query.statuses]) : undefined,
    query.createTimeStart ? gte(orders.createTime, query.createTimeStart) : undefined,
    query.createTimeEnd ? lt(orders.createTime, query.createTimeEnd) : undefined,
    after ? afterCursor(after, query.descending) : undefined,
  ];
  const dir = query.descending ? desc : asc;
  const rows = await db
    .select()
    .from(orders)
    .where(and(...conditions))
    .orderBy(dir(orders.createTime), dir(orders.id))
    .limit(limit);
  return hydrate(db, rows);
}

function afterCursor(c: ListCursor, descending: boolean): SQL {
  const at = new Date(c.createTimeMs).toISOString();
  return descending
    ? sql`(${orders.createTime}, ${orders.id}) < (${at}::timestamptz, ${c.id}::uuid)`
    : sql`(${orders.createTime}, ${orders.id}) > (${at}::timestamptz, ${c.id}::uuid)`;
}
