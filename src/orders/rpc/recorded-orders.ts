/**
 * The order events (order-events.ts) read back from the outbox, for a
 * resumed WatchOrder: each row's message decoded with the contract's
 * generated type, its `order` kept as the wire's Order and sent as it was
 * recorded. Domain and app see it only as an opaque RecordedOrder; the casts
 * between the two live here and nowhere else.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderDeletedSchema,
  OrderMetadataChangedSchema,
  OrderNoteAddedSchema,
  OrderPaymentReportedSchema,
  OrderRefundDueSchema,
  OrderReturnChangedSchema,
  OrderShipmentChangedSchema,
  OrderShippingInfoChangedSchema,
  OrderStatusChangedSchema,
  OrderTagsChangedSchema,
  OrderUnshippedCancelledSchema,
} from "../../../gen/orders/v1/order_events_pb.js";
import type { Order as ProtoOrder } from "../../../gen/orders/v1/order_service_pb.js";
import type { RecordedChange, RecordedOrder } from "../domain/ports.js";
import { fromProtoStatus } from "./order-codec.js";

/** The events that carry the order after the change (all but OrderDeleted). */
const WITH_ORDER = new Map<string, WithOrder>(
  [
    OrderCreatedSchema,
    OrderStatusChangedSchema,
    OrderShippingInfoChangedSchema,
    OrderCancelledSchema,
    OrderPaymentReportedSchema,
    OrderRefundDueSchema,
    OrderShipmentChangedSchema,
    OrderUnshippedCancelledSchema,
    OrderReturnChangedSchema,
    OrderNoteAddedSchema,
    OrderTagsChangedSchema,
    OrderMetadataChangedSchema,
  ].map((s) => [s.typeName, s]),
);

type WithOrder =
  | typeof OrderCreatedSchema
  | typeof OrderStatusChangedSchema
  | typeof OrderShippingInfoChangedSchema
  | typeof OrderCancelledSchema
  | typeof OrderPaymentReportedSchema
  | typeof OrderRefundDueSchema
  | typeof OrderShipmentChangedSchema
  | typeof OrderUnshippedCancelledSchema
  | typeof OrderReturnChangedSchema
  | typeof OrderNoteAddedSchema
  | typeof OrderTagsChangedSchema
  | typeof OrderMetadataChangedSchema;

/**
 * The change an outbox row records: `type` the event's full name, `payload`
 * its protobuf JSON (fields a newer release added are ignored). Throws on an
 * unknown type or a payload without its order: a bug, not the caller's.
 */
export function recordedChangeOf(version: number, type: string, payload: unknown): RecordedChange {
  if (type === OrderDeletedSchema.typeName) return { version, order: undefined };
  const schema = WITH_ORDER.get(type);
  if (!schema) throw new Error(`outbox event ${type} (version ${version}) is not an order event`);
  const { order } = fromJson(schema, payload as JsonValue, { ignoreUnknownFields: true });
  if (!order) throw new Error(`outbox event ${type} (version ${version}) carries no order`);
  return { version, order: { status: fromProtoStatus(order.status), recorded: order as unknown as RecordedOrder } };
}

/** The order a change recorded, as sent on the wire. */
export const toProtoRecordedOrder = (r: RecordedOrder): ProtoOrder => r as unknown as ProtoOrder;
