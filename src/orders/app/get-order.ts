import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { Order } from "../domain/order.js";
import { orderNotFound } from "../domain/order-errors.js";
import type { OrderRepository } from "../domain/ports.js";

/**
 * GetOrder: unknown and deleted orders are NOT_FOUND, and so, for a customer,
 * is another customer's order. `repo` may answer from a read cache.
 */
export function createGetOrder(deps: { repo: Pick<OrderRepository, "findById"> }) {
  return async function getOrder(cx: CallContext, orderId: string): Promise<Order> {
    const order = await deps.repo.findById(orderId);
    if (!order || !visibleTo(cx, order)) throw orderNotFound(orderId);
    return order;
  };
}

/** Whether the caller may see `order`: a customer only their own, anyone else every order. */
export function visibleTo(cx: CallContext, order: Pick<Order, "customerId">): boolean {
  const scope = customerScope(cx.principal);
  return scope === undefined || order.customerId === scope;
}
