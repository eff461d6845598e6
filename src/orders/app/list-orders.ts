/**
 * ListOrders: keyset pages over (create_time, id). The token carries the
 * last row's key and is bound to the filter and order (PAGE_TOKEN_MISMATCH
 * when they change between pages).
 */
import { invalidArgument } from "../../kernel/errors.js";
import { decodePageToken, encodePageToken } from "../../kernel/page-token.js";
import { effectivePageSize } from "../../kernel/paging.js";
import type { Order } from "../domain/order.js";
import type { ListCursor, ListQuery, OrderRepository } from "../domain/ports.js";

export interface ListOrdersInput {
  readonly query: ListQuery;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface OrdersPage {
  readonly orders: Order[];
  readonly nextPageToken: string;
}

/** The query as the token binds it: normalised so equal filters give equal fingerprints. */
function tokenScope(q: ListQuery) {
  return {
    c: q.customerId?.toLowerCase() ?? null,
    s: [...new Set(q.statuses)].sort(),
    a: q.createTimeStart?.getTime() ?? null,
    b: q.createTimeEnd?.getTime() ?? null,
    d: q.descending,
  };
}

function cursorOf(key: (string | number)[]): ListCursor {
  const [createTimeMs, id] = key;
  if (key.length !== 2 || typeof createTimeMs !== "number" || typeof id !== "string") {
    throw invalidArgument("PAGE_TOKEN_INVALID", "page_token is not a token this service issued", [
      { field: "page_token", description: "not a token this service issued" },
    ]);
  }
  return { createTimeMs, id };
}

export function createListOrders(deps: { repo: OrderRepository }) {
  return async function listOrders(input: ListOrdersInput): Promise<OrdersPage> {
    const size = effectivePageSize(input.pageSize);
    const scope = tokenScope(input.query);
    const key = decodePageToken(input.pageToken, scope);
    const rows = await deps.repo.list(input.query, key ? cursorOf(key) : undefined, size + 1);
    const orders = rows.slice(0, size);
    const last = orders[orders.length - 1];
    const nextPageToken =
      rows.length > size && last ? encodePageToken([last.createTime.getTime(), last.id], scope) : "";
    return { orders, nextPageToken };
  };
}
