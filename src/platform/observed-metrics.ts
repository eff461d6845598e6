/**
 * Metrics read from what the process already counts, at scrape time
 * (OpenTelemetry observable instruments on the app's meter, metrics.ts):
 * nothing is done per call for them. Each source is optional — a process
 * that does not host the order module has no watches or order cache, one on
 * PGlite no pool gate, one with admission or rate limits off neither.
 *
 * | name | type | labels |
 * |---|---|---|
 * | db_pool_connections_in_use, db_pool_transactions_in_use, db_pool_waiting | gauge | |
 * | admission_calls_in_flight | gauge | |
 * | admission_calls_queued | gauge | priority |
 * | admission_calls_shed_total | counter | priority |
 * | rate_limited_calls_total | counter | method_class |
 * | watch_streams_open, watch_orders_watched, watch_listener_up | gauge | |
 * | order_cache_entries | gauge | |
 * | order_cache_hits_total, order_cache_misses_total | counter | |
 * | reconciler_orders_settled_total, reservations_expired_total | counter | |
 */
import type { Meter } from "@opentelemetry/api";
import { PRIORITY_CLASSES, type GateStats } from "./admission/gate.js";
import { METHOD_CLASSES, type MethodClass } from "./rate-limit.js";

export interface ObservedSources {
  readonly pool?: () => { inUse: number; transactions: number; waiting: number };
  readonly admission?: () => GateStats;
  readonly rateLimited?: () => Readonly<Record<MethodClass, number>>;
  readonly watches?: () => { watches: number; orders: number; healthy: boolean };
  readonly orderCache?: () => { size: number; hits: number; misses: number };
  /** Orders settled by the reconciler (this instance's passes). */
  readonly ordersSettled?: () => number;
  /** Reservations expired by the sweeper (this instance's sweeps). */
  readonly reservationsExpired?: () => number;
}

export function observe(meter: Meter, s: ObservedSources): void {
  const gauge = (name: string, description: string, read: () => number) =>
    meter.createObservableGauge(name, { description }).addCallback((r) => r.observe(read()));
  const counter = (name: string, description: string, read: () => number) =>
    meter.createObservableCounter(name, { description }).addCallback((r) => r.observe(read()));

  const { pool, admission, rateLimited, watches, orderCache, ordersSettled, reservationsExpired } = s;
  if (ordersSettled) counter("reconciler_orders_settled", "Orders the reconciler settled (confirmed or cancelled after a lost commit or release).", ordersSettled);
  if (reservationsExpired) counter("reservations_expired", "Reservations expired by the sweeper, their stock returned.", reservationsExpired);
  if (pool) {
    gauge("db_pool_connections_in_use", "Pooled database connections doing work (pool-gate.ts).", () => pool().inUse);
    gauge("db_pool_transactions_in_use", "Of those, transactions holding a connection of their own.", () => pool().transactions);
    gauge("db_pool_waiting", "Units of database work waiting for a pooled connection.", () => pool().waiting);
  }
  if (admission) {
    gauge("admission_calls_in_flight", "Calls holding an admission slot.", () => admission().inFlight);
    meter
      .createObservableGauge("admission_calls_queued", { description: "Calls waiting for an admission slot, by priority class." })
      .addCallback((r) => {
        const q = admission().queued;
        PRIORITY_CLASSES.forEach((priority, i) => r.observe(q[i] ?? 0, { priority }));
      });
    meter
      .createObservableCounter("admission_calls_shed", { description: "Calls refused UNAVAILABLE OVERLOADED by admission (at once or from the queue), by priority class." })
      .addCallback((r) => {
        const shed = admission().shed;
        PRIORITY_CLASSES.forEach((priority, i) => r.observe(shed[i] ?? 0, { priority }));
      });
  }
  if (rateLimited) {
    meter
      .createObservableCounter("rate_limited_calls", { description: "Calls refused RESOURCE_EXHAUSTED RATE_LIMITED, by method class." })
      .addCallback((r) => {
        const refused = rateLimited();
        for (const cls of METHOD_CLASSES) r.observe(refused[cls], { method_class: cls });
      });
  }
  if (watches) {
    gauge("watch_streams_open", "Open WatchOrder streams.", () => watches().watches);
    gauge("watch_orders_watched", "Orders with at least one open watch.", () => watches().orders);
    gauge("watch_listener_up", "1 while the shared change listener is up (watches cost no polling), else 0.", () => (watches().healthy ? 1 : 0));
  }
  if (orderCache) {
    gauge("order_cache_entries", "Orders in GetOrder's read cache.", () => orderCache().size);
    counter("order_cache_hits", "Order reads answered from the read cache.", () => orderCache().hits);
    counter("order_cache_misses", "Order reads that went to the database while the cache was on.", () => orderCache().misses);
  }
}
