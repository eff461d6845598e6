/**
 * Newest first, keyset paged. The token holds the last row's (create_time, id)
 * and is bound to the filter; the page size may change between pages.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { invalidArgument } from "../../kernel/errors.js";
import { decodePageToken, encodePageToken } from "../../kernel/page-token.js";
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

export type ListCustomers = (input: ListCustomersInput, cx: CallContext) => Promise<CustomerPage>;

export function createListCustomers({ repo }: Pick<CustomerAppPorts, "repo">): ListCustomers {
  return async (input, cx) => {
    cx.signal.throwIfAborted();
    const query = tokenQuery(input);
    const after = cursorOf(decodePageToken(input.pageToken, query));
    const limit = effectivePageSize(input.pageSize);
    const rows = await repo.list({ tier: input.tier, status: input.status, after, limit: limit + 1 });
    const customers = rows.slice(0, limit);
    const last = customers[customers.length - 1];
    const nextPageToken =
      rows.length > limit && last ? encodePageToken([last.createTime.toISOString(), last.id], query) : "";
    return { customers, nextPageToken };
  };
}

/** What a token is bound to: the filter and the order, not the page size. */
function tokenQuery(input: CustomerFilter) {
  return { tier: input.tier ?? null, status: input.status ?? null, order: "create_time desc, id desc" };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function cursorOf(key: (string | number)[] | undefined): ListCursor | undefined {
  if (key === undefined) return undefined;
  const [time, id] = key;
  const createTime = typeof time === "string" ? new Date(time) : new Date(NaN);
  if (key.length !== 2 || Number.isNaN(createTime.getTime()) || typeof id !== "string" || !UUID.test(id)) {
    throw invalidArgument("PAGE_TOKEN_INVALID", "page_token is not a token this service issued", [
      { field: "page_token", description: "not a token this service issued" },
    ]);
  }
  return { createTime, id };
}
