/**
 * SearchOrders: ListOrders' keyset pages (order-pages.ts) over more filters,
 * for staff (the access rule admits no customer). The token binds every
 * filter as the caller gave it — the email, not the customer it stood for —
 * so a page token with any filter changed is INVALID_PAGE_TOKEN.
 *
 * A customer email is resolved through CustomerService (the CustomerPort) on
 * every page, after the token is checked: an email nobody has finds no
 * orders, and so does one whose customer is not the `customerId` also given.
 * CustomerService down: UNAVAILABLE CUSTOMERS_UNAVAILABLE, as for CreateOrder.
 */
import type { CallContext } from "../../kernel/call-context.js";
import type { SearchQuery } from "../domain/ports.js";
import { listQueryScope, readPage, type OrdersPage, type PageRequest } from "./order-pages.js";
import type { OrderAppPorts } from "./ports.js";

export interface SearchOrdersInput extends PageRequest {
  readonly query: SearchQuery;
  /** Only the orders of the customer with this email (any letter case). */
  readonly customerEmail: string | undefined;
}

const sorted = <T extends string>(values: readonly T[]) => [...new Set(values)].sort();

/** Every filter, normalised so equal searches give equal fingerprints. */
function tokenScope(q: SearchQuery, customerEmail: string | undefined) {
  return {
    list: "search-orders",
    ...listQueryScope(q),
    n: q.number ?? null,
    p: sorted(q.paymentStatuses),
    f: sorted(q.fulfilmentStatuses),
    t: q.tag ?? null,
    e: customerEmail?.toLowerCase() ?? null,
  };
}

export function createSearchOrders(deps: Pick<OrderAppPorts, "repo" | "customers">) {
  return async function searchOrders(cx: CallContext, input: SearchOrdersInput): Promise<OrdersPage> {
    const { query, customerEmail } = input;
    return readPage(tokenScope(query, customerEmail), input, async (after, limit) => {
      if (customerEmail === undefined) return deps.repo.search(query, after, limit);
      const customerId = await deps.customers.findIdByEmail(cx, customerEmail);
      if (customerId === undefined) return [];
      if (query.customerId !== undefined && query.customerId.toLowerCase() !== customerId.toLowerCase()) return [];
      return deps.repo.search({ ...query, customerId }, after, limit);
    });
  };
}
