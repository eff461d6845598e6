import type { Order } from "../domain/order.js";
import { orderNotFound } from "../domain/order-errors.js";
import type { OrderRepository } from "../domain/ports.js";

/** GetOrder: unknown and deleted orders are NOT_FOUND. `repo` may answer from a read cache. */
export function createGetOrder(deps: { repo: Pick<OrderRepository, "findById"> }) {
  return async function getOrder(orderId: string): Promise<Order> {
    const order = await deps.repo.findById(orderId);
    if (!order) throw orderNotFound(orderId);
    return order;
  };
}
