/**
 * WatchOrder: the order as it is, then the order after each change, until
 * it is final or deleted or the call ends. Woken by the change signal (this
 * process's commits, and other processes' via the database's notifications),
 * and re-read every `pollMs` in case a notification was missed. Reads go to
 * the repository, never to GetOrder's read cache.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { isFinal } from "../domain/order-status.js";
import type { Order } from "../domain/order.js";
import { orderNotFound } from "../domain/order-errors.js";
import type { OrderChanges, OrderRepository } from "../domain/ports.js";

export interface WatchOrderDeps {
  readonly repo: OrderRepository;
  readonly changes: OrderChanges;
  readonly pollMs: number;
}

export function createWatchOrder(deps: WatchOrderDeps) {
  const { repo, changes, pollMs } = deps;
  return async function* watchOrder(cx: CallContext, orderId: string): AsyncGenerator<Order> {
    // Listen before reading, so a change between the read and the wait is not missed.
    let woken = changes.next(orderId, pollMs, cx.signal);
    let order = await repo.findById(orderId);
    if (!order) throw orderNotFound(orderId);
    yield order;
    while (!isFinal(order.status)) {
      await woken;
      if (cx.signal.aborted) return;
      woken = changes.next(orderId, pollMs, cx.signal);
      const next = await repo.findById(orderId);
      if (!next) return;
      if (next.version !== order.version) {
        order = next;
        yield order;
      }
    }
  };
}
