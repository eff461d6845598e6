/**
 * Other processes' order changes: `listenToOrderChanges` turns the database's
 * `orders_changed` notifications (migrations/0001_order_change_notify.sql)
 * into cache evictions and watch-hub reads. The notification also arrives for
 * this process's own commits, on Postgres and PGlite alike. While the
 * listener is down the cache is off and the hub polls (watch-hub.ts).
 */
import type { Database, Listener } from "../../platform/db.js";
import type { Logger } from "../../platform/logger.js";
import type { OrderCache } from "./order-cache.js";
import type { WatchHub } from "./watch-hub.js";

export const ORDER_CHANGES_CHANNEL = "orders_changed";

export interface OrderChangeTargets {
  readonly cache: OrderCache;
  readonly watches: Pick<WatchHub, "changed" | "listening" | "lost">;
  readonly logger: Logger;
}

/**
 * Listens for order changes. The cache caches only while the listener is
 * up, and starts empty each time it (re)connects; the hub re-reads every
 * watched order then.
 */
export function listenToOrderChanges(listen: NonNullable<Database["listen"]>, t: OrderChangeTargets): Listener {
  return listen(
    ORDER_CHANGES_CHANNEL,
    (orderId) => {
      t.cache.invalidate(orderId);
      t.watches.changed(orderId);
    },
    {
      onListen: () => {
        t.cache.reset(true);
        t.watches.listening();
      },
      onLost: (err) => {
        t.cache.reset(false);
        t.watches.lost();
        t.logger.warn({ err }, "order change listener lost; order cache off and watches polling until it reconnects");
      },
    },
  );
}
