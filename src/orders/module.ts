/**
 * The orders module: repository and clients → use cases → ServiceImpl, plus
 * the background work: the reconciler that settles reservations left behind
 * by crashes and failed calls, and the listener for other processes' order
 * changes that keeps GetOrder's read cache honest and wakes watchers.
 */
import type { ServiceImpl, Client } from "@connectrpc/connect";
import type { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import type { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import type { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import type { Database, Db, Listener } from "../platform/db.js";
import type { Logger } from "../platform/logger.js";
import { createOrderUseCases } from "./app/use-cases.js";
import { createCustomerAdapter } from "./infra/customer-adapter.js";
import { createInventoryAdapter } from "./infra/inventory-adapter.js";
import { cachedFindById, createOrderCache, type OrderCache } from "./infra/order-cache.js";
import { createOrderChanges, listenToOrderChanges } from "./infra/order-changes.js";
import { createOrderRepository } from "./infra/order-repository.js";
import { createOrderServiceImpl } from "./rpc/order-service.js";

export interface OrdersModuleDeps {
  db: Db;
  logger: Logger;
  inventory: Client<typeof InventoryService>;
  customers: Client<typeof CustomerService>;
  defaultDeadlineMs: number;
  deadlineMarginMs: number;
  reconcileIntervalMs: number;
  /** How often WatchOrder re-reads without a change signal (default 1000). */
  watchPollMs?: number;
  /** The database's LISTEN (started by start()); without it, no read cache and no cross-process wake-ups. */
  listen?: Database["listen"];
  /** Orders GetOrder keeps in memory (ORDER_CACHE_SIZE); 0 (default) disables the cache. */
  orderCacheSize?: number;
}

export interface OrdersModule {
  impl: ServiceImpl<typeof OrderService>;
  start(): void;
  stop(): Promise<void>;
  /** One reconciler pass now; resolves to the number of orders settled. */
  reconcile(): Promise<number>;
  /** GetOrder's read cache, for a look: on once the change listener is up. */
  readonly orderCache: Pick<OrderCache, "size" | "enabled">;
}

export function createOrdersModule(deps: OrdersModuleDeps): OrdersModule {
  const logger = deps.logger.child({ module: "orders" });
  const changes = createOrderChanges();
  const cache = createOrderCache(deps.listen ? (deps.orderCacheSize ?? 0) : 0);
  const policy = { marginMs: deps.deadlineMarginMs };
  const repo = createOrderRepository(deps.db, (orderId) => {
    cache.invalidate(orderId); // before the writer's RPC answers: read-your-writes on this instance
    changes.notify(orderId);
  });
  const useCases = createOrderUseCases({
    repo,
    getOrderReads: cachedFindById(repo, cache),
    inventory: createInventoryAdapter(deps.inventory, policy),
    customers: createCustomerAdapter(deps.customers, policy),
    changes,
    logger,
    settleBudgetMs: deps.defaultDeadlineMs,
    watchPollMs: deps.watchPollMs ?? 1000,
  });
  const reconciler = createPeriodic(() => useCases.reconcile(), deps.reconcileIntervalMs, logger);
  let listener: Listener | undefined;
  return {
    impl: createOrderServiceImpl(useCases, deps.defaultDeadlineMs),
    start() {
      reconciler.start();
      if (deps.listen && !listener) listener = listenToOrderChanges(deps.listen, { cache, changes, logger });
    },
    async stop() {
      const l = listener;
      listener = undefined;
      cache.reset(false);
      await Promise.all([reconciler.stop(), l?.close()]);
    },
    reconcile: () => useCases.reconcile(),
    orderCache: cache,
  };
}

/** Runs `task` every `intervalMs`, never two at once; stop() waits for a running one. */
function createPeriodic(task: () => Promise<unknown>, intervalMs: number, logger: Logger) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = task()
      .then(() => undefined)
      .catch((err) => logger.error({ err }, "reconciler pass failed"))
      .finally(() => (running = undefined));
  };
  return {
    start() {
      if (timer) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
