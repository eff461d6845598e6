/**
 * ListOrderTimeline: an order's changes, oldest first, keyset paged by the
 * entries' position. The token carries the last entry's position and is
 * bound to the order. Customers see their own order's timeline without the
 * staff-only entries (notes, tags, metadata); another customer's order, like
 * an unknown or deleted one, is NOT_FOUND.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import { decodePageToken, encodePageToken } from "../../kernel/page-token.js";
import { effectivePageSize } from "../../kernel/paging.js";
import { orderNotFound } from "../domain/order-errors.js";
import type { StoredTimelineEntry } from "../domain/ports.js";
import type { OrderAppPorts } from "./ports.js";

/** An order's changes are few (one per version): a page of 100 is most timelines whole. */
export const TIMELINE_PAGE_SIZE = 100;

export interface ListOrderTimelineInput {
  readonly orderId: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface TimelinePage {
  readonly entries: readonly StoredTimelineEntry[];
  readonly nextPageToken: string;
}

/** A page token's key: the last entry's position (a bigserial, positive). */
const positionOf = (key: readonly unknown[]) => {
  const [id] = key;
  return key.length === 1 && Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : undefined;
};

export function createListOrderTimeline(deps: Pick<OrderAppPorts, "timeline">) {
  return async function listOrderTimeline(cx: CallContext, input: ListOrderTimelineInput): Promise<TimelinePage> {
    const own = customerScope(cx.principal);
    const size = effectivePageSize(input.pageSize, TIMELINE_PAGE_SIZE);
    const scope = { list: "timeline", o: input.orderId.toLowerCase() };
    const afterId = decodePageToken(input.pageToken, scope, positionOf);
    const page = await deps.timeline.page(input.orderId, { afterId, limit: size + 1, staffOnly: own === undefined });
    if (!page || (own !== undefined && page.customerId !== own)) throw orderNotFound(input.orderId);
    const entries = page.entries.slice(0, size);
    const last = entries[entries.length - 1];
    return { entries, nextPageToken: page.entries.length > size && last ? encodePageToken([last.id], scope) : "" };
  };
}
