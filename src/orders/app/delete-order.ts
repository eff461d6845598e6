/** DeleteOrder: cancels an order still holding stock (same transaction), marks it deleted, returns the stock. */
import type { CallContext } from "../../kernel/call-context.js";
import { decide } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { ReservationSettler } from "./reservation-settler.js";
import type { OrderAppPorts } from "./ports.js";

export function createDeleteOrder(deps: Pick<OrderAppPorts, "repo"> & { settler: ReservationSettler }) {
  return async function deleteOrder(cx: CallContext, input: { orderId: string; etag: string | undefined }) {
    const meta = changeMeta(cx);
    const { order } = await deps.repo.update(input.orderId, { etag: input.etag }, (o) =>
      decide(o, { kind: "DELETE", reason: "order deleted" }, meta),
      cx,
    );
    if (order.reservationState === "RELEASE_PENDING") await deps.settler.releaseSoon(order, "order deleted", cx.actor);
  };
}
