/**
 * WatchOrder: the order as it is, then the order after each change, until it
 * is final or deleted (the only ends with OK). A watcher falling behind gets
 * the latest version, not each one between. The watches come from one shared
 * hub (infra/watch-hub.ts) that reads an order once per change for all its
 * watchers and caps how many are open. A customer watches only their own
 * orders; another's is NOT_FOUND.
 *
 * Resumed (`afterVersion`, the last version the client saw): every change
 * after it instead, each once and in version order, from the order's event
 * log (the outbox, which holds one row per version, written with the change):
 * first those made meanwhile, then, at each wake-up of the hub, every version
 * since the last one sent — a slow client skips none. A gap in the log (rows
 * purged by retention, or older than the events contract) is FAILED_PRECONDITION
 * RESUME_POINT_EXPIRED; a version past the order's, INVALID_ARGUMENT
 * RESUME_POINT_AHEAD; both after the visibility check, so another customer's
 * order stays NOT_FOUND. With nothing to send yet it sends a "caught up"
 * message (the version, no order) at once: the stream starts, and leaves its
 * admission slot (held until the first message), without waiting for a change.
 *
 * How long: a stream lives at most `maxLifetimeMs` (WATCH_MAX_LIFETIME_MS),
 * then ends UNAVAILABLE WATCH_LIFETIME_REACHED with a retry hint; the client
 * reconnects and gets the current state first (or, resuming, what it missed).
 * A caller's deadline, when shorter, ends it DEADLINE_EXCEEDED;
 * DEFAULT_DEADLINE_MS does not apply to streams (wrapService gives them no
 * deadline of their own). A cancelled call ends it at once. Whatever the end,
 * the watch's slot is freed.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { unavailable } from "../../kernel/errors.js";
import { principalLabel } from "../../kernel/principal.js";
import { isFinal } from "../domain/order-status.js";
import type { Order } from "../domain/order.js";
import { orderNotFound, resumePointAhead, resumePointExpired } from "../domain/order-errors.js";
import type { OrderEventLog, OrderWatch, RecordedChange, RecordedOrder } from "../domain/ports.js";
import { visibleTo } from "./get-order.js";
import type { OrderAppPorts } from "./ports.js";

/** `orderEvents`: the recorded changes a resumed watch sends. */
export type WatchOrderDeps = Pick<OrderAppPorts, "watches" | "orderEvents" | "watchMaxLifetimeMs">;

/** What a watch sends: the order as stored now, a recorded change, or (resumed, nothing to send yet) that it is caught up. */
export type WatchMessage =
  | { readonly kind: "order"; readonly order: Order }
  | { readonly kind: "recorded"; readonly version: number; readonly order: RecordedOrder }
  | { readonly kind: "caught-up"; readonly version: number };

/**
 * Spread of the reconnect hint at the lifetime's end: streams opened together
 * (after a deploy) also end together, and should not all come back at once.
 */
const LIFETIME_RETRY_SPREAD_MS = 1000;

/** Outbox rows read at once by a resumed watch. */
const LOG_PAGE = 100;

/** What to watch: the order, and the version a resumed watch has already seen. */
export interface WatchOrderInput {
  readonly orderId: string;
  readonly afterVersion?: number;
}

export function createWatchOrder(deps: WatchOrderDeps) {
  return async function* watchOrder(cx: CallContext, { orderId, afterVersion }: WatchOrderInput): AsyncGenerator<WatchMessage> {
    const watch = deps.watches.open(principalLabel(cx.principal), orderId);
    const stop = endOnCallEnd(watch, cx, deps.watchMaxLifetimeMs);
    try {
      const order = await watch.next();
      if (!order || !visibleTo(cx, order)) throw orderNotFound(orderId);
      if (afterVersion === undefined) yield* latest(watch, order);
      else yield* everyChange(watch, deps.orderEvents, order, afterVersion);
    } finally {
      stop();
      watch.close();
    }
  };
}

/** The order now, then the newest version at each wake-up, until it is final or deleted. */
async function* latest(watch: OrderWatch, first: Order): AsyncGenerator<WatchMessage> {
  let order = first;
  yield { kind: "order", order };
  while (!isFinal(order.status)) {
    const next = await watch.next();
    if (!next) return; // deleted
    order = next;
    yield { kind: "order", order };
  }
}

/**
 * Every change after `after`, from the log: at the start up to (at least)
 * `current`, then after each wake-up up to (at least) the version it brought.
 * Ends after a final status or at the deletion (not sent, as without resuming).
 */
async function* everyChange(watch: OrderWatch, log: OrderEventLog, current: Order, after: number): AsyncGenerator<WatchMessage> {
  const orderId = current.id;
  if (after > current.version) throw resumePointAhead(orderId, after, current.version);
  let last = after;
  if (after === current.version) {
    yield { kind: "caught-up", version: after };
    if (isFinal(current.status)) return;
  }
  // The newest version the hub has seen; undefined once the order is deleted.
  let known: Order | undefined = current;
  for (;;) {
    if (!known || known.version > last) {
      for await (const change of changesAfter(log, orderId, last)) {
        last = change.version;
        if (!change.order) return; // deleted
        yield { kind: "recorded", version: change.version, order: change.order.recorded };
        if (isFinal(change.order.status)) return;
      }
      if (!known) return;
      if (last < known.version) throw resumePointExpired(orderId, last);
    }
    known = await watch.next();
  }
}

/** The log's changes after `after`, page by page; a version missing from it (purged, or never versioned) is RESUME_POINT_EXPIRED. */
async function* changesAfter(log: OrderEventLog, orderId: string, after: number): AsyncGenerator<RecordedChange> {
  let last = after;
  for (;;) {
    const page = await log.after(orderId, last, LOG_PAGE);
    for (const change of page) {
      if (change.version !== last + 1) throw resumePointExpired(orderId, last);
      last = change.version;
      yield change;
    }
    if (page.length < LOG_PAGE) return;
  }
}

/** Ends `watch` when the call goes away (with the signal's reason: CANCELLED, DEADLINE_EXCEEDED) or lives too long. */
function endOnCallEnd(watch: OrderWatch, cx: CallContext, maxLifetimeMs: number): () => void {
  const signal = cx.signal;
  const onAbort = () => watch.end(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  const lifetime = setTimeout(() => {
    const retryMs = Math.floor(Math.random() * LIFETIME_RETRY_SPREAD_MS);
    watch.end(unavailable("WATCH_LIFETIME_REACHED", "the watch reached its maximum lifetime; watch again", undefined, retryMs));
  }, maxLifetimeMs);
  lifetime.unref();
  return () => {
    clearTimeout(lifetime);
    signal.removeEventListener("abort", onAbort);
  };
}
