/**
 * Moves an order's inventory reservation to where the order says it should
 * be: committed for a live order, released for a cancelled one. Every step
 * is idempotent on both sides (inventory by reservation id, ours by a guarded
 * state change), so the create/cancel paths and the reconciler may race.
 */
import type { Logger } from "pino";
import { backgroundContext, type CallContext } from "../../kernel/call-context.js";
import type { Order } from "../domain/order.js";
import type { InventoryPort, OrderRepository } from "../domain/ports.js";

export interface ReservationSettler {
  commit(cx: CallContext, order: Order): Promise<void>;
  release(cx: CallContext, order: Order, reason: string): Promise<void>;
  /** After our transaction: try now, leave it to the reconciler on failure. */
  commitSoon(order: Order): Promise<void>;
  releaseSoon(order: Order, reason: string): Promise<void>;
  /** Releases a reservation no order was stored with (quietly; else it expires). */
  discard(reservationId: string, reason: string): Promise<void>;
}

export interface SettlerDeps {
  readonly repo: OrderRepository;
  readonly inventory: InventoryPort;
  readonly logger: Logger;
  /** Budget of a settlement call made after the caller's work is done. */
  readonly settleBudgetMs: number;
}

export function createReservationSettler(deps: SettlerDeps): ReservationSettler {
  const { repo, inventory, logger } = deps;
  const settler: ReservationSettler = {
    async commit(cx, order) {
      await inventory.commit(cx, order.reservationId);
      await repo.setReservationState(order.id, ["PENDING"], "COMMITTED");
    },
    async release(cx, order, reason) {
      await inventory.release(cx, order.reservationId, reason);
      await repo.setReservationState(order.id, ["RELEASE_PENDING"], "RELEASED");
    },
    async commitSoon(order) {
      try {
        await settler.commit(backgroundContext(deps.settleBudgetMs), order);
      } catch (err) {
        logger.warn({ err, orderId: order.id }, "commit of reservation failed; the reconciler retries it");
      }
    },
    async releaseSoon(order, reason) {
      try {
        await settler.release(backgroundContext(deps.settleBudgetMs), order, reason);
      } catch (err) {
        logger.warn({ err, orderId: order.id }, "release of reservation failed; the reconciler retries it");
      }
    },
    async discard(reservationId, reason) {
      try {
        await inventory.release(backgroundContext(deps.settleBudgetMs), reservationId, reason);
      } catch (err) {
        logger.warn({ err, reservationId }, "release of an unused reservation failed; it will expire");
      }
    },
  };
  return settler;
}
