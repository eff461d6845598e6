/**
 * UpdateOrderStatus: one step of the transition table. CANCELLED is
 * CancelOrder. PENDING → CONFIRMED is the sale (ReservationSettler.confirm:
 * commit at inventory, then the version-guarded confirm). Before an
 * acknowledged order moves on, its reservation must be committed (normally
 * already done by CreateOrder; otherwise done here first). With
 * REQUIRE_CAPTURE_BEFORE_FULFILMENT, PROCESSING and SHIPPED need the whole
 * total captured (FAILED_PRECONDITION PAYMENT_NOT_CAPTURED).
 */
import type { CallContext } from "../../kernel/call-context.js";
import type { OrderStatus } from "../domain/order-status.js";
import { etagOf, type Order } from "../domain/order.js";
import { etagMismatch, illegalTransition, orderNotFound } from "../domain/order-errors.js";
import { decide } from "../domain/transition.js";
import type { createCancelOrder } from "./cancel-order.js";
import { changeMeta } from "./change-meta.js";
import type { ReservationSettler } from "./reservation-settler.js";
import type { OrderAppPorts } from "./ports.js";

export interface UpdateOrderStatusInput {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly reason: string;
  readonly etag: string | undefined;
}

export interface UpdateOrderStatusDeps extends Pick<OrderAppPorts, "repo" | "requireCaptureBeforeFulfilment"> {
  readonly settler: ReservationSettler;
  readonly cancelOrder: ReturnType<typeof createCancelOrder>;
}

export function createUpdateOrderStatus(deps: UpdateOrderStatusDeps) {
  const { repo, settler } = deps;
  return async function updateOrderStatus(cx: CallContext, input: UpdateOrderStatusInput): Promise<Order> {
    if (input.status === "CANCELLED") return deps.cancelOrder(cx, input);
    const current = await repo.findById(input.orderId);
    if (!current) throw orderNotFound(input.orderId);
    if (current.status === "PENDING" && input.status === "CONFIRMED") return confirmPending(cx, current, input);
    if (current.reservationState === "PENDING" && current.status !== "PENDING" && current.status !== input.status) {
      await settler.commit(cx, current);
    }
    const meta = changeMeta(cx);
    const { order } = await repo.update(input.orderId, { etag: input.etag }, (o) =>
      decide(o, { kind: "SET_STATUS", to: input.status, reason: input.reason, requireCapture: deps.requireCaptureBeforeFulfilment }, meta),
      cx,
    );
    return order;
  };

  /** The staff's confirm of a PENDING order: the sale first; a stale etag, before or during it, is ETAG_MISMATCH. */
  async function confirmPending(cx: CallContext, current: Order, input: UpdateOrderStatusInput): Promise<Order> {
    if (input.etag && input.etag !== etagOf(current)) throw etagMismatch(current.id);
    const after = await settler.confirm(cx, current, input.reason || "stock sold");
    if (after.status === "CONFIRMED") return after;
    // Changed by someone else during the sale (e.g. cancelled).
    if (input.etag) throw etagMismatch(current.id);
    throw illegalTransition(current.id, after.status, "CONFIRMED");
  }
}
