/**
 * RequestReturn and UpdateReturnStatus: each one locked transaction on the
 * order, so concurrent returns never take back more of a line than was
 * delivered. A customer's request is held to RETURN_WINDOW_DAYS after the
 * order's last delivery; staff's is not. RECEIVED records a restock, returned
 * at inventory after the commit (or by the reconciler) exactly once.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { ShipmentLine } from "../domain/fulfilment.js";
import type { Order } from "../domain/order.js";
import { returnIdFor, type Return, type ReturnStatus } from "../domain/returns.js";
import { decide, isRepeatedReturn } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { Restocker } from "./restocks.js";
import type { OrderAppPorts } from "./ports.js";

export interface RequestReturnInput {
  readonly orderId: string;
  readonly requestId: string;
  readonly lines: readonly ShipmentLine[];
  readonly reason: string;
  readonly etag: string | undefined;
}

export interface UpdateReturnStatusInput {
  readonly orderId: string;
  readonly returnId: string;
  readonly status: ReturnStatus;
  readonly reason: string;
  readonly etag: string | undefined;
}

export interface ReturnResult {
  readonly order: Order;
  readonly ret: Return;
}

function returnOf(order: Order, id: string): Return {
  const found = order.returns.find((r) => r.id === id);
  if (!found) throw new Error(`order ${order.id} lacks return ${id} after its change`);
  return found;
}

export function createReturnUseCases(deps: Pick<OrderAppPorts, "repo" | "returnWindowDays"> & { restocker: Restocker }) {
  async function requestReturn(cx: CallContext, input: RequestReturnInput): Promise<ReturnResult> {
    const meta = changeMeta(cx);
    const scope = customerScope(cx.principal);
    const guard = { etag: input.etag, customerScope: scope, alreadyApplied: (o: Order) => isRepeatedReturn(o, input.requestId, input.lines) };
    const windowDays = scope === undefined ? undefined : deps.returnWindowDays;
    const { order } = await deps.repo.update(
      input.orderId,
      guard,
      (o) => decide(o, { kind: "REQUEST_RETURN", requestId: input.requestId, lines: input.lines, reason: input.reason, windowDays }, meta),
      cx,
    );
    return { order, ret: returnOf(order, returnIdFor(order.id, input.requestId)) };
  }

  async function updateReturnStatus(cx: CallContext, input: UpdateReturnStatusInput): Promise<ReturnResult> {
    const meta = changeMeta(cx);
    const { order, changed } = await deps.repo.update(
      input.orderId,
      { etag: input.etag },
      (o) => decide(o, { kind: "SET_RETURN_STATUS", returnId: input.returnId, to: input.status, reason: input.reason }, meta),
      cx,
    );
    if (changed) await deps.restocker.restockSoon(order, cx.actor);
    return { order, ret: returnOf(order, input.returnId) };
  }

  return { requestReturn, updateReturnStatus };
}
