/**
 * WatchOrder: the order as it is, then the order after each change, until it
 * is final or deleted (the only ends with OK). A watcher falling behind gets
 * the latest version, not each one between. The watches come from one shared
 * hub (infra/watch-hub.ts) that reads an order once per change for all its
 * watchers and caps how many are open. A customer watches only their own
 * orders; another's is NOT_FOUND.
 *
 * How long: a stream lives at most `maxLifetimeMs` (WATCH_MAX_LIFETIME_MS),
 * then ends UNAVAILABLE WATCH_LIFETIME_REACHED with a retry hint; the client
 * reconnects and gets the current state first. A caller's deadline, when
 * shorter, ends it DEADLINE_EXCEEDED; DEFAULT_DEADLINE_MS does not apply to
 * streams (wrapService gives them no deadline of their own). A cancelled
 * call ends it at once. Whatever the end, the watch's slot is freed.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { unavailable } from "../../kernel/errors.js";
import { principalLabel } from "../../kernel/principal.js";
import { isFinal } from "../domain/order-status.js";
import type { Order } from "../domain/order.js";
import { orderNotFound } from "../domain/order-errors.js";
import type { OrderWatch, OrderWatches } from "../domain/ports.js";
import { visibleTo } from "./get-order.js";

export interface WatchOrderDeps {
  readonly watches: OrderWatches;
  readonly maxLifetimeMs: number;
}

/**
 * Spread of the reconnect hint at the lifetime's end: streams opened together
 * (after a deploy) also end together, and should not all come back at once.
 */
const LIFETIME_RETRY_SPREAD_MS = 1000;

export function createWatchOrder(deps: WatchOrderDeps) {
  return async function* watchOrder(cx: CallContext, orderId: string): AsyncGenerator<Order> {
    const watch = deps.watches.open(principalLabel(cx.principal), orderId);
    const stop = endOnCallEnd(watch, cx, deps.maxLifetimeMs);
    try {
      let order = await watch.next();
      if (!order || !visibleTo(cx, order)) throw orderNotFound(orderId);
      yield order;
      while (!isFinal(order.status)) {
        const next = await watch.next();
        if (!next) return; // deleted
        order = next;
        yield order;
      }
    } finally {
      stop();
      watch.close();
    }
  };
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
