/**
 * The inventory module: repositories → use cases → ServiceImpl, the
 * reservation expiry sweeper, and demo data. The composition root wraps
 * `impl` (validation, error mapping) and serves it.
 */
import { randomUUID } from "node:crypto";
import type { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import type { Db } from "../platform/db.js";
import type { RpcImpl } from "../platform/handlers.js";
import type { Logger } from "../platform/logger.js";
import type { InventoryAppPorts } from "./app/ports.js";
import { createInventoryUseCases } from "./app/use-cases.js";
import { money } from "./domain/money.js";
import { newProduct, type NewProductInput } from "./domain/product.js";
import { createPeriodic } from "../platform/periodic.js";
import { createProductRepository } from "./infra/product-repository.js";
import { createReservationRepository } from "./infra/reservation-repository.js";
import { createInventoryServiceImpl } from "./rpc/inventory-service.js";

export interface InventoryModuleDeps {
  db: Db;
  logger: Logger;
  reservationTtlSeconds: number;
  sweepIntervalMs: number;
  /** With several instances: whether this one runs the expiry sweeper now (leader.ts); default always. */
  isLeader?: () => boolean;
}

export interface InventoryModule {
  impl: RpcImpl<typeof InventoryService>;
  /** Starts the expiry sweeper. */
  start(): void;
  /** Stops the sweeper, waiting for a sweep in flight. */
  stop(): Promise<void>;
  /** Expires every pending reservation due at `now` (default: the clock); returns how many. */
  sweepExpired(now?: Date): Promise<number>;
  /** Reservations expired since start (their stock returned), for metrics. */
  readonly expired: number;
  /** Idempotently inserts the README's demo products (fixed ids). */
  seedDemo(): Promise<void>;
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
  const ports: InventoryAppPorts = {
    products: createProductRepository(deps.db),
    reservations: createReservationRepository(deps.db),
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
  const sweeper = createPeriodic((stop) => expire(undefined, stop), {
    what: "reservation expiry sweep",
    intervalMs: deps.sweepIntervalMs,
    logger,
    runAtStart: true,
    when: deps.isLeader,
  });
  return {
    impl: createInventoryServiceImpl(useCases),
    start: () => sweeper.start(),
    stop: () => sweeper.stop(),
    sweepExpired: (now) => expire(now),
    get expired() {
      return expired;
    },
    async seedDemo() {
      for (const { id, ...input } of DEMO_PRODUCTS) {
        const inserted = await ports.products.insertIfAbsent(newProduct(id, input, ports.now()));
        if (inserted) logger.info({ productId: id, sku: input.sku }, "demo product created");
      }
    },
  };
}
