/**
 * Newest first, keyset paged. The token holds the last row's (create_time, id)
 * and is bound to the filter; the page size may change between pages.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { decodePageToken, encodePageToken, isEpochMs, isUuid } from "../../kernel/page-token.js";
import { effectivePageSize } from "../../kernel/paging.js";
import type { Customer } from "../domain/customer.js";
import type { CustomerFilter, ListCursor } from "../domain/ports.js";
import type { CustomerAppPorts } from "./ports.js";

export interface ListCustomersInput extends CustomerFilter {
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface CustomerPage {
  readonly customers: Customer[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export type ListCustomers = (cx: CallContext, input: ListCustomersInput) => Promise<CustomerPage>;

export function createListCustomers({ repo }: Pick<CustomerAppPorts, "repo">): ListCustomers {
  return async (cx, input) => {
    const query = tokenQuery(input);
    const after = decodePageToken(input.pageToken, query, cursorOf);
    const limit = effectivePageSize(input.pageSize);
    const rows = await repo.list({ tier: input.tier, status: input.status, email: input.email, after, limit: limit + 1 });
    const customers = rows.slice(0, limit);
    const last = customers[customers.length - 1];
    const nextPageToken =
      rows.length > limit && last ? encodePageToken([last.createTime.toISOString(), last.id], query) : "";
    return { customers, nextPageToken };
  };
}

/**
 * What a token is bound to: the filter and the order, not the page size. The
 * email only when set (in lower case, as it is compared), so the tokens of
 * lists without one stay what they were.
 */
function tokenQuery(input: CustomerFilter) {
  const query = { list: "customers", tier: input.tier ?? null, status: input.status ?? null, order: "create_time desc, id desc" };
  return input.email === undefined ? query : { ...query, email: input.email.toLowerCase() };
}

/** A page token's key: (create time as an ISO string, customer id). */
function cursorOf(key: readonly unknown[]): ListCursor | undefined {
  const [time, id] = key;
  const ms = typeof time === "string" && /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(time) ? Date.parse(time) : NaN;
  return key.length === 2 && isEpochMs(ms) && isUuid(id) ? { createTime: new Date(ms), id } : undefined;
}
