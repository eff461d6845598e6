/**
 * CancelOrder: the status change and the reservation's move to
 * RELEASE_PENDING happen in one locked transaction, so of any number of
 * concurrent cancels exactly one changes the order; the release that follows
 * is idempotent in inventory and retried by the reconciler if it fails.
 * A customer cancels only their own orders; another's is NOT_FOUND.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { Order } from "../domain/order.js";
import { decide } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { ReservationSettler } from "./reservation-settler.js";
import type { OrderAppPorts } from "./ports.js";

export interface CancelOrderInput {
  readonly orderId: string;
  readonly reason: string;
  readonly etag: string | undefined;
}

export function createCancelOrder(deps: Pick<OrderAppPorts, "repo"> & { settler: ReservationSettler }) {
  return async function cancelOrder(cx: CallContext, input: CancelOrderInput): Promise<Order> {
    const meta = changeMeta(cx);
    const guard = { etag: input.etag, customerScope: customerScope(cx.principal) };
    const { order } = await deps.repo.update(input.orderId, guard, (o) =>
      decide(o, { kind: "SET_STATUS", to: "CANCELLED", reason: input.reason }, meta),
      cx,
    );
    if (order.reservationState === "RELEASE_PENDING") {
      await deps.settler.releaseSoon(order, input.reason || "order cancelled", cx.actor);
    }
    return order;
  };
}
