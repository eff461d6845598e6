/**
 * The inventory module: repositories → use cases → ServiceImpl, the
 * reservation expiry sweeper, retention (ended reservations and published
 * events past their window), the relay publishing inventory's events (stock
 * low or replenished, reservations expired: the stream "inventory"), and
 * demo data. The composition root wraps `impl` (validation, error mapping)
 * and serves it.
 */
import { randomUUID } from "node:crypto";
import type { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import type { Db } from "../platform/db.js";
import type { RpcImpl } from "../platform/rpc/handlers.js";
import { atMostEvery } from "../platform/at-most-every.js";
import type { Logger } from "../platform/logger.js";
import { sqlStateOf } from "../platform/statements.js";
import { isDomainError } from "../kernel/errors.js";
import type { InventoryAppPorts } from "./app/ports.js";
import type { ReserveStock } from "./app/reserve-stock.js";
import { createInventoryUseCases } from "./app/use-cases.js";
import { money } from "./domain/money.js";
import { newProduct, type NewProductInput } from "./domain/product.js";
import { createPeriodic } from "../platform/periodic.js";
import { createRetention, type Retention, type RetentionSchedule } from "../platform/retention.js";
import { createOutboxRelay, type EventsOut, type OutboxRelay } from "../platform/events/outbox-relay.js";
import { createOutboxStore, type OutboxStore } from "../platform/events/outbox-store.js";
import { createInventoryEvents } from "./infra/inventory-events.js";
import { createProductRepository } from "./infra/product-repository.js";
import { createReservationRepository } from "./infra/reservation-repository.js";
import { inventoryPurgeTargets, type InventoryRetentionWindows } from "./infra/retention.js";
import { outbox as outboxTable } from "./infra/schema.js";
import { createInventoryServiceImpl } from "./rpc/inventory-service.js";

export interface InventoryModuleDeps {
  db: Db;
  logger: Logger;
  reservationTtlSeconds: number;
  sweepIntervalMs: number;
  /** STOCK_LOW_THRESHOLD: available units below which a product is low (its events); 0: no stock events. */
  stockLowThreshold: number;
  /** With several instances: whether this one runs the expiry sweeper now (leader.ts); default always. */
  isLeader?: () => boolean;
  /** Retention (RETENTION_* settings); without it (default) nothing is purged. */
  retention?: InventoryRetentionWindows & RetentionSchedule;
  /** With several instances: whether this one runs retention now (its own lock, leader.ts); default always. */
  isRetentionLeader?: () => boolean;
  /** Events out (README "Events"): the broker inventory's outbox is published to; absent, events stay in the outbox. */
  events?: EventsOut;
}

export interface InventoryModule {
  impl: RpcImpl<typeof InventoryService>;
  /** Starts the expiry sweeper, retention and the relay. */
  start(): void;
  /** Stops them, waiting for a pass in flight. */
  stop(): Promise<void>;
  /** Expires every pending reservation due at `now` (default: the clock); returns how many. */
  sweepExpired(now?: Date): Promise<number>;
  /** Reservations expired since start (their stock returned), for metrics. */
  readonly expired: number;
  /** Retention of ended reservations: a pass now (`purge`), rows purged since start per table (for metrics). */
  readonly retention: Pick<Retention, "enabled" | "purge" | "purged">;
  /** ReserveStock calls refused INSUFFICIENT_STOCK since start (CreateOrder's holds among them), for metrics. */
  readonly shortages: number;
  /** Idempotently inserts the README's demo products (fixed ids). */
  seedDemo(): Promise<void>;
  /** Inventory's events' outbox (its backlog and dead letters). */
  readonly outbox: OutboxStore;
  /** The relay publishing it, when a broker is configured. */
  readonly relay: OutboxRelay | undefined;
}

const usd = (minor: bigint) => money("USD", minor);

export const DEMO_PRODUCTS: readonly (NewProductInput & { id: string })[] = [
  { id: "aaaaaaaa-0000-4000-8000-000000000001", sku: "MUG-001", name: "Coffee mug", description: "Stoneware, 350 ml", unitPrice: usd(1200n), initialStock: 500n },
  { id: "aaaaaaaa-0000-4000-8000-000000000002", sku: "TEE-001", name: "T-shirt", description: "Cotton, size M", unitPrice: usd(2500n), initialStock: 300n },
  { id: "aaaaaaaa-0000-4000-8000-000000000003", sku: "CAP-001", name: "Baseball cap", description: "One size", unitPrice: usd(1800n), initialStock: 200n },
  { id: "aaaaaaaa-0000-4000-8000-000000000004", sku: "BAG-001", name: "Tote bag", description: "Canvas", unitPrice: usd(1500n), initialStock: 1000n },
];

export function createInventoryModule(deps: InventoryModuleDeps): InventoryModule {
  const logger = deps.logger.child({ module: "inventory" });
  const outbox = createOutboxStore(deps.db, outboxTable, "inventory.outbox", { versioned: false });
  const relay =
    deps.events &&
    createOutboxRelay({ ...deps.events.relay, store: outbox, publisher: deps.events.publisher, stream: "inventory", logger, isLeader: deps.events.isLeader });
  const events = createInventoryEvents(deps.stockLowThreshold, () => relay?.wake());
  const ports: InventoryAppPorts = {
    products: createProductRepository(deps.db, events),
    reservations: createReservationRepository(
      deps.db,
      events,
      atMostEvery(60_000, (err: unknown, size: number) =>
        logger.warn({ sqlState: sqlStateOf(err), size }, "a grouped reservation statement failed; its members ran alone (a racing duplicate id, or a bug)"),
      ),
    ),
    now: () => new Date(),
    newId: randomUUID,
    log: logger,
    defaultTtlMs: deps.reservationTtlSeconds * 1000,
  };
  const useCases = createInventoryUseCases(ports);
  let expired = 0;
  const expire = async (now?: Date, stop?: AbortSignal) => {
    const n = await useCases.expireReservations(now, stop);
    expired += n;
    return n;
  };
  let shortages = 0;
  const reserveStock: ReserveStock = (cx, input) =>
    useCases.reserveStock(cx, input).catch((err: unknown) => {
      if (isDomainError(err) && err.reason === "INSUFFICIENT_STOCK") shortages++;
      throw err;
    });
  const sweeper = createPeriodic((stop) => expire(undefined, stop), {
    what: "reservation expiry sweep",
    intervalMs: deps.sweepIntervalMs,
    logger,
    runAtStart: true,
    when: deps.isLeader,
  });
  const retention = createRetention({
    what: "inventory retention pass",
    targets: inventoryPurgeTargets(deps.db, { reservationsHours: deps.retention?.reservationsHours ?? 0, outboxHours: deps.retention?.outboxHours }, relay && outbox),
    schedule: deps.retention,
    logger,
    when: deps.isRetentionLeader,
  });
  return {
    impl: createInventoryServiceImpl({ ...useCases, reserveStock }),
    start() {
      sweeper.start();
      retention.start();
      relay?.start();
    },
    async stop() {
      await Promise.all([sweeper.stop(), retention.stop(), relay?.stop()]);
    },
    sweepExpired: (now) => expire(now),
    get expired() {
      return expired;
    },
    retention,
    get shortages() {
      return shortages;
    },
    outbox,
    relay,
    async seedDemo() {
      for (const { id, ...input } of DEMO_PRODUCTS) {
        const inserted = await ports.products.insertIfAbsent(newProduct(id, input, ports.now()));
        if (inserted) logger.info({ productId: id, sku: input.sku }, "demo product created");
      }
    },
  };
}
