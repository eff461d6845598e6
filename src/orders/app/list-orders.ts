/**
 * ListOrders: keyset pages over (create_time, id). The token carries the
 * last row's key and is bound to the filter and order. A customer's list is
 * limited to their own orders whatever they filter by: a filter naming
 * another customer matches nothing.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import { decodePageToken, encodePageToken, isEpochMs, isUuid } from "../../kernel/page-token.js";
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
    list: "orders",
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

export function createListOrders(deps: { repo: OrderRepository }) {
  return async function listOrders(cx: CallContext, input: ListOrdersInput): Promise<OrdersPage> {
    const own = customerScope(cx.principal);
    if (own !== undefined && input.query.customerId !== undefined && input.query.customerId.toLowerCase() !== own) {
      return { orders: [], nextPageToken: "" };
    }
    const query = own === undefined ? input.query : { ...input.query, customerId: own };
    const size = effectivePageSize(input.pageSize);
    const scope = tokenScope(query);
    const after = decodePageToken(input.pageToken, scope, cursorOf);
    const rows = await deps.repo.list(query, after, size + 1);
    const orders = rows.slice(0, size);
    const last = orders[orders.length - 1];
    const nextPageToken =
      rows.length > size && last ? encodePageToken([last.createTime.getTime(), last.id], scope) : "";
    return { orders, nextPageToken };
  };
}
