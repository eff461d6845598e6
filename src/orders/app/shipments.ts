/**
 * CreateShipment and UpdateShipmentStatus: each one locked transaction on
 * the order (repository.update), so concurrent shipments of an order are
 * checked against each other and never put more of a line in parcels than
 * was ordered. A repeated CreateShipment (same request id, same lines) finds
 * its shipment in the order and changes nothing, whatever etag it carries.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { shipmentIdFor, type Shipment, type ShipmentLine, type ShipmentStatus } from "../domain/fulfilment.js";
import type { Order, ShippingInfo } from "../domain/order.js";
import { decide, isRepeatedShipment } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { OrderAppPorts } from "./ports.js";

export interface CreateShipmentInput {
  readonly orderId: string;
  readonly requestId: string;
  readonly lines: readonly ShipmentLine[];
  readonly shippingInfo: ShippingInfo | undefined;
  readonly etag: string | undefined;
}

export interface UpdateShipmentStatusInput {
  readonly orderId: string;
  readonly shipmentId: string;
  readonly status: ShipmentStatus;
  readonly shippingInfo: ShippingInfo | undefined;
  readonly reason: string;
  readonly etag: string | undefined;
}

export interface ShipmentResult {
  readonly order: Order;
  readonly shipment: Shipment;
}

function shipmentOf(order: Order, id: string): Shipment {
  const found = order.shipments.find((sh) => sh.id === id);
  if (!found) throw new Error(`order ${order.id} lacks shipment ${id} after its change`);
  return found;
}

export function createShipmentUseCases(deps: Pick<OrderAppPorts, "repo" | "requireCaptureBeforeFulfilment">) {
  async function createShipment(cx: CallContext, input: CreateShipmentInput): Promise<ShipmentResult> {
    const meta = changeMeta(cx);
    const guard = { etag: input.etag, alreadyApplied: (o: Order) => isRepeatedShipment(o, input.requestId, input.lines) };
    const { order } = await deps.repo.update(
      input.orderId,
      guard,
      (o) =>
        decide(
          o,
          { kind: "CREATE_SHIPMENT", requestId: input.requestId, lines: input.lines, shippingInfo: input.shippingInfo, requireCapture: deps.requireCaptureBeforeFulfilment },
          meta,
        ),
      cx,
    );
    return { order, shipment: shipmentOf(order, shipmentIdFor(order.id, input.requestId)) };
  }

  async function updateShipmentStatus(cx: CallContext, input: UpdateShipmentStatusInput): Promise<ShipmentResult> {
    const meta = changeMeta(cx);
    const { order } = await deps.repo.update(
      input.orderId,
      { etag: input.etag },
      (o) =>
        decide(o, { kind: "SET_SHIPMENT_STATUS", shipmentId: input.shipmentId, to: input.status, shippingInfo: input.shippingInfo, reason: input.reason }, meta),
      cx,
    );
    return { order, shipment: shipmentOf(order, input.shipmentId) };
  }

  return { createShipment, updateShipmentStatus };
}
