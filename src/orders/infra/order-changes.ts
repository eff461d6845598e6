/**
 * Order change signals. In process: the repository fires `notify` after a
 * commit; a watcher waits for the next one or a poll interval, whichever
 * comes first. Across processes: `listenToOrderChanges` turns the database's
 * `orders_changed` notifications (migrations/0001_order_change_notify.sql)
 * into cache evictions and watcher wake-ups; the poll stays as the fallback
 * for notifications missed while the listener reconnects.
 */
import { EventEmitter } from "node:events";
import type { Database, Listener } from "../../platform/db.js";
import type { Logger } from "../../platform/logger.js";
import type { OrderChanges } from "../domain/ports.js";
import type { OrderCache } from "./order-cache.js";

export const ORDER_CHANGES_CHANNEL = "orders_changed";

export function createOrderChanges(): OrderChanges {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    notify: (orderId) => void emitter.emit(orderId),
    next(orderId, timeoutMs, signal) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          emitter.off(orderId, done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        emitter.once(orderId, done);
        signal.addEventListener("abort", done, { once: true });
        if (signal.aborted) done();
      });
    },
  };
}

export interface OrderChangeTargets {
  readonly cache: OrderCache;
  readonly changes: OrderChanges;
  readonly logger: Logger;
}

/**
 * Listens for other processes' order changes. The cache caches only while
 * the listener is up, and starts empty each time it (re)connects.
 */
export function listenToOrderChanges(listen: NonNullable<Database["listen"]>, t: OrderChangeTargets): Listener {
  return listen(
    ORDER_CHANGES_CHANNEL,
    (orderId) => {
      t.cache.invalidate(orderId);
      t.changes.notify(orderId);
    },
    {
      onListen: () => t.cache.reset(true),
      onLost: (err) => {
        t.cache.reset(false);
        t.logger.warn({ err }, "order change listener lost; order cache off until it reconnects");
      },
    },
  );
}
