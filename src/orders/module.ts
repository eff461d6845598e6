/**
 * The orders module: repository and clients → use cases → ServiceImpl, plus
 * the background work: the reconciler that settles reservations left behind
 * by crashes and failed calls, retention (idempotency records past their
 * window, published events), the relay publishing the order events, and the listener for other processes' order changes that keeps
 * GetOrder's read cache honest and wakes watchers.
 */
import type { Client } from "@connectrpc/connect";
import type { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import type { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import type { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import type { Database, Db, Listener } from "../platform/db.js";
import type { RpcImpl } from "../platform/rpc/handlers.js";
import type { OrderRepository } from "./domain/ports.js";
import type { Logger } from "../platform/logger.js";
import { createPeriodic } from "../platform/periodic.js";
import { createRetention, type Retention, type RetentionSchedule } from "../platform/retention.js";
import { SETTLE_ACTIONS, type SettleAction } from "./app/reconcile-reservations.js";
import { createOrderUseCases } from "./app/use-cases.js";
import { createCustomerAdapter } from "./infra/customer-adapter.js";
import { createInventoryAdapter } from "./infra/inventory-adapter.js";
import { cachedFindById, createOrderCache, type OrderCache } from "./infra/order-cache.js";
import { listenToOrderChanges } from "./infra/order-changes.js";
import { createOrderEventLog } from "./infra/order-event-log.js";
import { createOrderRepository } from "./infra/order-repository.js";
import { createOrderTimelineLog } from "./infra/order-timeline.js";
import { ordersPurgeTargets, type OrdersRetentionWindows } from "./infra/retention.js";
import { createWatchHub, type WatchHub } from "./infra/watch-hub.js";
import { outbox as outboxTable } from "./infra/schema.js";
import { createOutboxRelay, type EventsOut, type OutboxRelay } from "../platform/events/outbox-relay.js";
import { createOutboxStore, type OutboxStore } from "../platform/events/outbox-store.js";
import { createOrderServiceImpl } from "./rpc/order-service.js";

export interface OrdersModuleDeps {
  db: Db;
  logger: Logger;
  inventory: Client<typeof InventoryService>;
  customers: Client<typeof CustomerService>;
  defaultDeadlineMs: number;
  deadlineMarginMs: number;
  reconcileIntervalMs: number;
  /** REQUIRE_CAPTURE_BEFORE_FULFILMENT: PROCESSING and SHIPPED need the whole total captured (default false). */
  requireCaptureBeforeFulfilment?: boolean;
  /** RETURN_WINDOW_DAYS: days after the last delivery a customer may request a return (default 30). */
  returnWindowDays?: number;
  /** With several instances: whether this one runs the reconciler now (leader.ts); default always. */
  isLeader?: () => boolean;
  /** WatchOrder limits and fallback poll (WATCH_* settings); defaults as in config.ts. */
  watch?: Partial<WatchSettings>;
  /** Test hook: wrap the repository (count its reads, slow it down). */
  wrapRepository?: (repo: OrderRepository) => OrderRepository;
  /** The database's LISTEN (started by start()); without it, no read cache and no cross-process wake-ups. */
  listen?: Database["listen"];
  /** Orders GetOrder keeps in memory (ORDER_CACHE_SIZE); 0 (default) disables the cache. */
  orderCacheSize?: number;
  /** Retention (RETENTION_* settings); without it (default) nothing is purged. */
  retention?: OrdersRetentionWindows & RetentionSchedule;
  /** With several instances: whether this one runs retention now (its own lock, leader.ts); default always. */
  isRetentionLeader?: () => boolean;
  /** Events out (README "Events"): the broker the outbox is published to; absent, events stay in the outbox. */
  events?: EventsOut;
}

export interface WatchSettings {
  /** Interval of the fallback poll while the change listener is down (WATCH_POLL_INTERVAL_MS). */
  readonly pollMs: number;
  readonly maxPerPrincipal: number;
  readonly maxTotal: number;
  readonly maxLifetimeMs: number;
}

const WATCH_DEFAULTS: WatchSettings = { pollMs: 5000, maxPerPrincipal: 16, maxTotal: 10_000, maxLifetimeMs: 30 * 60_000 };

export interface OrdersModule {
  impl: RpcImpl<typeof OrderService>;
  start(): void;
  stop(): Promise<void>;
  /** One reconciler pass now; resolves to the number of orders settled. `stop` ends it early. */
  reconcile(stop?: AbortSignal): Promise<number>;
  /** Orders the reconciler settled since start (every pass, periodic or asked for), for metrics. */
  readonly settled: number;
  /** The same, by what settling did. */
  readonly settledBy: Readonly<Record<SettleAction, number>>;
  /** Orders CreateOrder stored since start (not replays), by customer tier and currency, for metrics. */
  readonly created: Iterable<OrdersCreated>;
  /** GetOrder's read cache, for a look: on once the change listener is up. */
  readonly orderCache: Pick<OrderCache, "size" | "enabled" | "hits" | "misses">;
  /** The WatchOrder hub: its counts, and close() to end every watch at shutdown (before the servers stop). */
  readonly watches: Pick<WatchHub, "stats" | "close">;
  /** Retention of idempotency records: a pass now (`purge`), rows purged since start per table (for metrics). */
  readonly retention: Pick<Retention, "enabled" | "purge" | "purged">;
  /** The order events' outbox (its backlog and dead letters). */
  readonly outbox: OutboxStore;
  /** The relay publishing it, when a broker is configured. */
  readonly relay: OutboxRelay | undefined;
}

/** A count of orders created for one customer tier and currency. */
export interface OrdersCreated {
  readonly tier: string;
  readonly currency: string;
  readonly n: number;
}

export function createOrdersModule(deps: OrdersModuleDeps): OrdersModule {
  const logger = deps.logger.child({ module: "orders" });
  const settledBy = Object.fromEntries(SETTLE_ACTIONS.map((a) => [a, 0])) as Record<SettleAction, number>;
  // Few series: tiers are the customer enum's names, currencies the catalog's prices' (three letters, set by staff).
  const created = new Map<string, { tier: string; currency: string; n: number }>();
  const onOrderCreated = (tier: string, currency: string) => {
    const key = `${tier}/${currency}`;
    let c = created.get(key);
    if (!c) created.set(key, (c = { tier, currency, n: 0 }));
    c.n++;
  };
  const cache = createOrderCache(deps.listen ? (deps.orderCacheSize ?? 0) : 0);
  const policy = { marginMs: deps.deadlineMarginMs };
  const watch = { ...WATCH_DEFAULTS, ...deps.watch };
  const outbox = createOutboxStore(deps.db, outboxTable, "orders.outbox", { versioned: true });
  const relay =
    deps.events &&
    createOutboxRelay({ ...deps.events.relay, store: outbox, publisher: deps.events.publisher, stream: "orders", logger, isLeader: deps.events.isLeader });
  const stored = createOrderRepository(deps.db, (orderId) => {
    cache.invalidate(orderId); // before the writer's RPC answers: read-your-writes on this instance
    watches.committed(orderId);
    relay?.wake();
  });
  const repo = deps.wrapRepository?.(stored) ?? stored;
  const watches = createWatchHub({
    read: (orderId) => repo.findById(orderId),
    maxPerOwner: watch.maxPerPrincipal,
    maxTotal: watch.maxTotal,
    pollMs: watch.pollMs,
    logger,
  });
  const useCases = createOrderUseCases({
    repo,
    getOrderReads: cachedFindById(repo, cache),
    inventory: createInventoryAdapter(deps.inventory, policy),
    customers: createCustomerAdapter(deps.customers, policy),
    watches,
    orderEvents: createOrderEventLog(deps.db),
    timeline: createOrderTimelineLog(deps.db),
    log: logger,
    settleBudgetMs: deps.defaultDeadlineMs,
    requireCaptureBeforeFulfilment: deps.requireCaptureBeforeFulfilment ?? false,
    returnWindowDays: deps.returnWindowDays ?? 30,
    watchMaxLifetimeMs: watch.maxLifetimeMs,
    onOrderCreated,
    onOrderSettled: (action) => settledBy[action]++,
  });
  let settled = 0;
  const reconcile = async (stop?: AbortSignal) => {
    const n = await useCases.reconcile(stop);
    settled += n;
    return n;
  };
  const reconciler = createPeriodic((stop) => reconcile(stop), {
    what: "reconciler pass",
    intervalMs: deps.reconcileIntervalMs,
    logger,
    when: deps.isLeader,
  });
  const retention = createRetention({
    what: "orders retention pass",
    targets: ordersPurgeTargets(deps.db, { idempotencyHours: deps.retention?.idempotencyHours ?? 0, outboxHours: deps.retention?.outboxHours }, relay && outbox),
    schedule: deps.retention,
    logger,
    when: deps.isRetentionLeader,
  });
  let listener: Listener | undefined;
  return {
    impl: createOrderServiceImpl(useCases),
    start() {
      reconciler.start();
      retention.start();
      relay?.start();
      if (deps.listen && !listener) listener = listenToOrderChanges(deps.listen, { cache, watches, logger });
    },
    async stop() {
      const l = listener;
      listener = undefined;
      cache.reset(false);
      await Promise.all([reconciler.stop(), retention.stop(), relay?.stop(), l?.close(), watches.close()]);
    },
    reconcile,
    get settled() {
      return settled;
    },
    settledBy,
    get created() {
      return created.values();
    },
    orderCache: cache,
    watches,
    retention,
    outbox,
    relay,
  };
}

