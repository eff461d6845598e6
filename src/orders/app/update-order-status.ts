/**
 * UpdateOrderStatus: one step of the transition table. CANCELLED is
 * CancelOrder. Before an order moves on, its reservation must be committed
 * (normally already done by CreateOrder; otherwise done here first).
 */
import type { CallContext } from "../../kernel/call-context.js";
import type { OrderStatus } from "../domain/order-status.js";
import type { Order } from "../domain/order.js";
import { orderNotFound } from "../domain/order-errors.js";
import type { OrderRepository } from "../domain/ports.js";
import { decide } from "../domain/transition.js";
import type { createCancelOrder } from "./cancel-order.js";
import { changeMeta } from "./change-meta.js";
import type { ReservationSettler } from "./reservation-settler.js";

export interface UpdateOrderStatusInput {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly reason: string;
  readonly etag: string | undefined;
}

export interface UpdateOrderStatusDeps {
  readonly repo: OrderRepository;
  readonly settler: ReservationSettler;
  readonly cancelOrder: ReturnType<typeof createCancelOrder>;
}

export function createUpdateOrderStatus(deps: UpdateOrderStatusDeps) {
  const { repo, settler } = deps;
  return async function updateOrderStatus(cx: CallContext, input: UpdateOrderStatusInput): Promise<Order> {
    if (input.status === "CANCELLED") return deps.cancelOrder(cx, input);
    const current = await repo.findById(input.orderId);
    if (!current) throw orderNotFound(input.orderId);
    if (current.reservationState === "PENDING" && current.status !== input.status) {
      await settler.commit(cx, current);
    }
    const meta = changeMeta(cx);
    const { order } = await repo.update(input.orderId, input.etag, (o) =>
      decide(o, { kind: "SET_STATUS", to: input.status, reason: input.reason }, meta),
    );
    return order;
  };
}
