/**
 * Keyset pages of orders over (create_time, id), for ListOrders and
 * SearchOrders: the token carries the last row's key and a fingerprint of
 * the query it was issued for, so a token replayed with another filter or
 * order is INVALID_ARGUMENT INVALID_PAGE_TOKEN. The page size may change
 * between pages.
 */
import { decodePageToken, encodePageToken, isEpochMs, isUuid } from "../../kernel/page-token.js";
import { effectivePageSize } from "../../kernel/paging.js";
import type { Order } from "../domain/order.js";
import type { ListCursor, ListQuery } from "../domain/ports.js";

export interface OrdersPage {
  readonly orders: Order[];
  readonly nextPageToken: string;
}

export interface PageRequest {
  readonly pageSize: number;
  readonly pageToken: string;
}

/** ListQuery's filters as a token binds them: normalised so equal filters give equal fingerprints. */
export function listQueryScope(q: ListQuery) {
  return {
    c: q.customerId?.toLowerCase() ?? null,
    s: [...new Set(q.statuses)].sort(),
    a: q.createTimeStart?.getTime() ?? null,
    b: q.createTimeEnd?.getTime() ?? null,
    d: q.descending,
  };
}

/** A page token's key: (create time in epoch ms, order id). */
function cursorOf(key: readonly unknown[]): ListCursor | undefined {
  const [createTimeMs, id] = key;
  return key.length === 2 && isEpochMs(createTimeMs) && isUuid(id) ? { createTimeMs, id } : undefined;
}

/**
 * The page `page` asks for of the query `scope` stands for: the token is
 * checked before `read` runs, `read` is asked for one row more than the page
 * (is there a next page?), and the next token is bound to `scope`.
 */
export async function readPage(
  scope: object,
  page: PageRequest,
  read: (after: ListCursor | undefined, limit: number) => Promise<Order[]>,
): Promise<OrdersPage> {
  const size = effectivePageSize(page.pageSize);
  const after = decodePageToken(page.pageToken, scope, cursorOf);
  const rows = await read(after, size + 1);
  const orders = rows.slice(0, size);
  const last = orders[orders.length - 1];
  const nextPageToken = rows.length > size && last ? encodePageToken([last.createTime.getTime(), last.id], scope) : "";
  return { orders, nextPageToken };
}
