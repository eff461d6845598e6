/**
 * ListOrders: keyset pages over (create_time, id) (order-pages.ts), the
 * token bound to the filter and order. A customer's list is limited to their
 * own orders whatever they filter by: a filter naming another customer
 * matches nothing.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { ListQuery } from "../domain/ports.js";
import { listQueryScope, readPage, type OrdersPage, type PageRequest } from "./order-pages.js";
import type { OrderAppPorts } from "./ports.js";

export interface ListOrdersInput extends PageRequest {
  readonly query: ListQuery;
}

export function createListOrders(deps: Pick<OrderAppPorts, "repo">) {
  return async function listOrders(cx: CallContext, input: ListOrdersInput): Promise<OrdersPage> {
    const own = customerScope(cx.principal);
    if (own !== undefined && input.query.customerId !== undefined && input.query.customerId.toLowerCase() !== own) {
      return { orders: [], nextPageToken: "" };
    }
    const query = own === undefined ? input.query : { ...input.query, customerId: own };
    // The fields in the order they always had, so tokens issued before stay valid.
    const scope = { list: "orders", ...listQueryScope(query) };
    return readPage(scope, input, (after, limit) => deps.repo.list(query, after, limit));
  };
}
