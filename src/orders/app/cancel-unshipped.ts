/**
 * CancelUnshipped: the rest of an order whose parcels have partly left is
 * cancelled in one locked transaction (domain: transition.ts
 * cancelUnshipped), which records the stock to give back as a PENDING
 * restock; after the commit it is returned at inventory (Restocker), or by
 * the reconciler when that fails. With nothing shipped it is CancelOrder,
 * release of the whole reservation included. A customer cancels only their
 * own orders; another's is NOT_FOUND.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { Order } from "../domain/order.js";
import { decide } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { ReservationSettler } from "./reservation-settler.js";
import type { Restocker } from "./restocks.js";
import type { OrderAppPorts } from "./ports.js";

export interface CancelUnshippedInput {
  readonly orderId: string;
  readonly reason: string;
  readonly etag: string | undefined;
}

export function createCancelUnshipped(deps: Pick<OrderAppPorts, "repo"> & { settler: ReservationSettler; restocker: Restocker }) {
  return async function cancelUnshipped(cx: CallContext, input: CancelUnshippedInput): Promise<Order> {
    const meta = changeMeta(cx);
    const guard = { etag: input.etag, customerScope: customerScope(cx.principal) };
    const { order, changed } = await deps.repo.update(input.orderId, guard, (o) => decide(o, { kind: "CANCEL_UNSHIPPED", reason: input.reason }, meta), cx);
    if (changed && order.reservationState === "RELEASE_PENDING") {
      await deps.settler.releaseSoon(order, input.reason || "order cancelled", cx.actor);
    }
    if (changed) await deps.restocker.restockSoon(order, cx.actor);
    return order;
  };
}
