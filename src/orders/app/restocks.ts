/**
 * Restocks: stock an order gives back to inventory after its sale other
 * than by a whole cancellation (the unshipped rest, CancelUnshipped). The
 * order's transaction records the restock PENDING; after the commit it is
 * returned at inventory (ReturnStock, idempotent by the restock's id, so a
 * retry never returns twice) and marked DONE. A failure leaves it PENDING for
 * the reconciler, so none is lost and none is returned twice.
 */
import { backgroundContext, type CallContext } from "../../kernel/call-context.js";
import type { Restock } from "../domain/fulfilment.js";
import type { Order } from "../domain/order.js";
import type { ReservationSettler } from "./reservation-settler.js";
import type { OrderAppPorts } from "./ports.js";

export interface Restocker {
  /** Returns every PENDING restock of `order` (within `cx`); throws what inventory throws. True when one was returned. */
  restock(cx: CallContext, order: Order): Promise<boolean>;
  /** After our transaction, on behalf of the caller's `actor`: try now, leave it to the reconciler on failure. */
  restockSoon(order: Order, actor: string): Promise<void>;
}

/** The units of a restock per product, as inventory counts them (order lines of one product add up). */
export function restockLines(order: Order, r: Restock): { productId: string; quantity: number }[] {
  const byProduct = new Map<string, number>();
  for (const l of r.lines) {
    const productId = order.lines[l.lineNo - 1]!.productId;
    byProduct.set(productId, (byProduct.get(productId) ?? 0) + l.quantity);
  }
  return [...byProduct].map(([productId, quantity]) => ({ productId, quantity }));
}

export function createRestocker(deps: Pick<OrderAppPorts, "repo" | "inventory" | "log" | "settleBudgetMs"> & { settler: ReservationSettler }): Restocker {
  const restocker: Restocker = {
    async restock(cx, order) {
      const pending = order.restocks.filter((r) => r.state === "PENDING");
      if (pending.length === 0) return false;
      // Returns take only sold stock: a sale not yet recorded here is made first (idempotent at inventory).
      if (order.reservationState === "PENDING") await deps.settler.commit(cx, order);
      for (const r of pending) {
        await deps.inventory.returnStock(cx, order.reservationId, r.id, restockLines(order, r), r.kind === "CANCELLED_REST" ? "unshipped units cancelled" : "returned by the customer");
        await deps.repo.markRestocked(order.id, r.id);
      }
      return true;
    },
    async restockSoon(order, actor) {
      try {
        await restocker.restock(backgroundContext(deps.settleBudgetMs, actor), order);
      } catch (err) {
        deps.log.warn({ err, orderId: order.id }, "return of stock failed; the reconciler retries it");
      }
    },
  };
  return restocker;
}
