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
 * | rate_limited_calls_total, rate_limit_tarpitted_calls_total | counter | method_class |
 * | watch_streams_open, watch_orders_watched, watch_listener_up | gauge | |
 * | order_cache_entries | gauge | |
 * | order_cache_hits_total, order_cache_misses_total | counter | |
 * | reconciler_orders_settled_total | counter | action |
 * | reservations_expired_total, stock_shortages_total | counter | |
 * | orders_created_total | counter | tier, currency |
 * | retention_rows_purged_total | counter | table |
 * | events_published_total, events_dead_lettered_total, events_publish_failures_total | counter | stream |
 * | events_broker_up, events_outbox_unpublished, events_outbox_oldest_seconds, events_outbox_dead_letters | gauge | stream |
 */
import type { Attributes, Meter } from "@opentelemetry/api";
import { PRIORITY_CLASSES, type GateStats } from "./admission/gate.js";
import { METHOD_CLASSES, type MethodClass } from "./rate-limit.js";

export interface ObservedSources {
  readonly pool?: () => { inUse: number; transactions: number; waiting: number };
  readonly admission?: () => GateStats;
  readonly rateLimited?: () => { readonly refused: Readonly<Record<MethodClass, number>>; readonly tarpitted: Readonly<Record<MethodClass, number>> };
  readonly watches?: () => { watches: number; orders: number; healthy: boolean };
  readonly orderCache?: () => { size: number; hits: number; misses: number };
  /** Orders settled by the reconciler (this instance's passes), by action (confirmed, cancelled...). */
  readonly ordersSettled?: () => Readonly<Record<string, number>>;
  /** Reservations expired by the sweeper (this instance's sweeps). */
  readonly reservationsExpired?: () => number;
  /** Rows retention deleted (this instance's passes), by table ("orders.idempotency_keys"). */
  readonly rowsPurged?: () => Readonly<Record<string, number>>;
  /** ReserveStock calls refused INSUFFICIENT_STOCK. */
  readonly stockShortages?: () => number;
  /** The event relays, per stream ("orders"): their counts when relaying, and the outbox backlog (a query at scrape time). */
  readonly events?: readonly EventsSource[];
  /** Orders created (not replays), by customer tier and currency. */
  readonly ordersCreated?: () => Iterable<{ readonly tier: string; readonly currency: string; readonly n: number }>;
}

export interface EventsSource {
  readonly stream: string;
  readonly relay?: () => { published: number; deadLettered: number; failures: number; brokerUp: boolean };
  readonly backlog: () => Promise<{ unpublished: number; oldestMs: number; deadLetters: number }>;
}

export function observe(meter: Meter, s: ObservedSources): void {
  const gauge = (name: string, description: string, read: () => number) =>
    meter.createObservableGauge(name, { description }).addCallback((r) => r.observe(read()));
  const counter = (name: string, description: string, read: () => number) =>
    meter.createObservableCounter(name, { description }).addCallback((r) => r.observe(read()));
  /** A counter of several series: `read` gives each one's labels and value. */
  const counters = (name: string, description: string, read: () => Iterable<readonly [Attributes, number]>) =>
    meter.createObservableCounter(name, { description }).addCallback((r) => {
      for (const [attributes, n] of read()) r.observe(n, attributes);
    });

  const { pool, admission, rateLimited, watches, orderCache, ordersSettled, reservationsExpired, stockShortages, ordersCreated } = s;
  if (ordersSettled) {
    const byAction = () => Object.entries(ordersSettled()).map(([action, n]) => [{ action }, n] as const);
    counters("reconciler_orders_settled", "Orders the reconciler settled, by action: confirmed or cancelled (a PENDING order), released, committed.", byAction);
  }
  if (reservationsExpired) counter("reservations_expired", "Reservations expired by the sweeper, their stock returned.", reservationsExpired);
  const { rowsPurged } = s;
  if (rowsPurged) {
    const byTable = () => Object.entries(rowsPurged()).map(([table, n]) => [{ table }, n] as const);
    counters("retention_rows_purged", "Rows deleted past their retention window (RETENTION_* settings), by table.", byTable);
  }
  if (stockShortages) counter("stock_shortages", "ReserveStock calls refused INSUFFICIENT_STOCK (CreateOrder's holds among them).", stockShortages);
  if (ordersCreated) {
    const byTier = function* () {
      for (const c of ordersCreated()) yield [{ tier: c.tier, currency: c.currency }, c.n] as const;
    };
    counters("orders_created", "Orders CreateOrder created (not idempotent replays), by the customer's tier and the order's currency.", byTier);
  }
  if (s.events && s.events.length > 0) observeEvents(meter, s.events);
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
        const refused = rateLimited().refused;
        for (const cls of METHOD_CLASSES) r.observe(refused[cls], { method_class: cls });
      });
    meter
      .createObservableCounter("rate_limit_tarpitted_calls", {
        description: "Of the rate-limited calls, those answered late because their caller kept calling before its retry hint (RATE_LIMIT_TARPIT_MAX_MS), by method class.",
      })
      .addCallback((r) => {
        const tarpitted = rateLimited().tarpitted;
        for (const cls of METHOD_CLASSES) r.observe(tarpitted[cls], { method_class: cls });
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

/** The event relays' counters and the outbox backlog (one query per stream per scrape; the lag histogram is metrics.ts's). */
function observeEvents(meter: Meter, sources: readonly EventsSource[]): void {
  const relayCounter = (name: string, description: string, read: (r: NonNullable<EventsSource["relay"]>) => number) =>
    meter.createObservableCounter(name, { description }).addCallback((r) => {
      for (const src of sources) if (src.relay) r.observe(read(src.relay), { stream: src.stream });
    });
  relayCounter("events_published", "Events this instance's relay put on the broker.", (r) => r().published);
  relayCounter("events_dead_lettered", "Events moved to the dead letters after EVENTS_MAX_ATTEMPTS refusals.", (r) => r().deadLettered);
  relayCounter("events_publish_failures", "Failed publishes: the broker unreachable (per try) or an event refused (per event).", (r) => r().failures);
  meter.createObservableGauge("events_broker_up", { description: "1 while the relay's last try reached the broker, else 0." }).addCallback((r) => {
    for (const src of sources) if (src.relay) r.observe(src.relay().brokerUp ? 1 : 0, { stream: src.stream });
  });
  const unpublished = meter.createObservableGauge("events_outbox_unpublished", { description: "Outbox rows not yet published (dead letters apart)." });
  const oldest = meter.createObservableGauge("events_outbox_oldest_seconds", {
    description: "Age of the oldest outbox row not yet published: the events' lag behind their commits.",
  });
  const dead = meter.createObservableGauge("events_outbox_dead_letters", { description: "Outbox rows in the dead letters." });
  meter.addBatchObservableCallback(async (r) => {
    for (const src of sources) {
      const b = await src.backlog().catch(() => undefined);
      if (!b) continue;
      r.observe(unpublished, b.unpublished, { stream: src.stream });
      r.observe(oldest, b.oldestMs / 1000, { stream: src.stream });
      r.observe(dead, b.deadLetters, { stream: src.stream });
    }
  }, [unpublished, oldest, dead]);
}
