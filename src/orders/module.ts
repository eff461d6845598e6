/**
 * The orders module: repository and clients → use cases → ServiceImpl, plus
 * the background reconciler that settles reservations left behind by
 * crashes and failed calls.
 */
import type { ServiceImpl, Client } from "@connectrpc/connect";
import type { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import type { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import type { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import type { Db } from "../platform/db.js";
import type { Logger } from "../platform/logger.js";
import { createOrderUseCases } from "./app/use-cases.js";
import { createCustomerAdapter } from "./infra/customer-adapter.js";
import { createInventoryAdapter } from "./infra/inventory-adapter.js";
import { createOrderChanges } from "./infra/order-changes.js";
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
  /** How often WatchOrder re-reads without an in-process signal (default 1000). */
  watchPollMs?: number;
}

export interface OrdersModule {
  impl: ServiceImpl<typeof OrderService>;
  start(): void;
  stop(): Promise<void>;
  /** One reconciler pass now; resolves to the number of orders settled. */
  reconcile(): Promise<number>;
}

export function createOrdersModule(deps: OrdersModuleDeps): OrdersModule {
  const logger = deps.logger.child({ module: "orders" });
  const changes = createOrderChanges();
  const policy = { marginMs: deps.deadlineMarginMs };
  const useCases = createOrderUseCases({
    repo: createOrderRepository(deps.db, changes.notify),
    inventory: createInventoryAdapter(deps.inventory, policy),
    customers: createCustomerAdapter(deps.customers, policy),
    changes,
    logger,
    settleBudgetMs: deps.defaultDeadlineMs,
    watchPollMs: deps.watchPollMs ?? 1000,
  });
  const reconciler = createPeriodic(() => useCases.reconcile(), deps.reconcileIntervalMs, logger);
  return {
    impl: createOrderServiceImpl(useCases, deps.defaultDeadlineMs),
    start: reconciler.start,
    stop: reconciler.stop,
    reconcile: () => useCases.reconcile(),
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
