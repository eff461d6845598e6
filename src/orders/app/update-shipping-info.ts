/** UpdateShippingInfo: allowed until the order is DELIVERED or CANCELLED. */
import type { CallContext } from "../../kernel/call-context.js";
import type { Order, ShippingInfo } from "../domain/order.js";
import { decide } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { OrderAppPorts } from "./ports.js";

export interface UpdateShippingInfoInput {
  readonly orderId: string;
  readonly shippingInfo: ShippingInfo;
  readonly etag: string | undefined;
}

export function createUpdateShippingInfo(deps: Pick<OrderAppPorts, "repo">) {
  return async function updateShippingInfo(cx: CallContext, input: UpdateShippingInfoInput): Promise<Order> {
    const meta = changeMeta(cx);
    const { order } = await deps.repo.update(input.orderId, { etag: input.etag }, (o) =>
      decide(o, { kind: "SET_SHIPPING_INFO", info: input.shippingInfo }, meta),
      cx,
    );
    return order;
  };
}
