/**
 * The events an order change publishes (proto/orders/v1/order_events.proto),
 * as the outbox stores them: the event message's full name (the CloudEvents
 * `type`) and the message in protobuf JSON (the CloudEvents `data`), so any
 * consumer decodes it with the contract's generated types. One event per
 * committed change (a version), chosen by what changed: created; a payment
 * report; a refund due; a shipment, return, note, tags or metadata change;
 * else deleted; cancelled; another status change; else the shipping info
 * (domain/timeline.ts `changedEventOf`, which the timeline's entries follow).
 */
import { create, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
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
import type { Order } from "../domain/order.js";
import { changedEventOf } from "../domain/timeline.js";
import type { DecidedChange } from "../domain/transition.js";
import { toProtoChange, toProtoOrder, toProtoPaymentEventKind, toProtoReturn, toProtoShipment, toProtoStaffNote } from "./order-codec.js";

export interface EncodedEvent {
  /** "orders.v1.OrderCreated", … */
  readonly type: string;
  readonly payload: JsonValue;
}

export function orderEvent(e: DecidedChange | { kind: "CREATED"; order: Order }): EncodedEvent {
  const o = e.order;
  const version = o.version;
  switch (e.kind) {
    case "CREATED":
      return encode(OrderCreatedSchema, { order: toProtoOrder(o), version });
    case "PAYMENT_REPORTED":
      return encode(OrderPaymentReportedSchema, {
        order: toProtoOrder(o),
        version,
        providerEventId: e.report.eventId,
        kind: toProtoPaymentEventKind(e.report.kind),
        amount: e.report.amountMinor > 0n ? { currencyCode: o.total.currency, amountMinor: e.report.amountMinor } : undefined,
        reason: e.report.reason,
        actor: e.actor,
      });
    case "REFUND_DUE":
      return encode(OrderRefundDueSchema, {
        order: toProtoOrder(o),
        version,
        amount: { currencyCode: o.total.currency, amountMinor: e.amountMinor },
        reason: e.reason,
      });
    case "SHIPMENT":
      return encode(OrderShipmentChangedSchema, {
        order: toProtoOrder(o),
        version,
        shipments: e.shipments.map(toProtoShipment),
        changes: e.changes.map(toProtoChange),
      });
    case "UNSHIPPED_CANCELLED":
      return encode(OrderUnshippedCancelledSchema, {
        order: toProtoOrder(o),
        version,
        changes: e.changes.map(toProtoChange),
        stockReturned: e.restock.lines.map((l) => {
          const line = o.lines[l.lineNo - 1]!;
          return { productId: line.productId, variantId: line.variantId, quantity: l.quantity };
        }),
      });
    case "RETURN":
      return encode(OrderReturnChangedSchema, { order: toProtoOrder(o), version, return: toProtoReturn(e.ret, o.total.currency), reason: e.reason });
    case "NOTE_ADDED":
      return encode(OrderNoteAddedSchema, { order: toProtoOrder(o), version, note: toProtoStaffNote(e.note) });
    case "TAGS_CHANGED":
      return encode(OrderTagsChangedSchema, { order: toProtoOrder(o), version, added: [...e.added], removed: [...e.removed], actor: e.actor });
    case "METADATA_CHANGED":
      return encode(OrderMetadataChangedSchema, {
        order: toProtoOrder(o),
        version,
        setKeys: [...e.setKeys],
        removedKeys: [...e.removedKeys],
        actor: e.actor,
      });
    case "CHANGED":
      break;
  }
  const changes = e.changes;
  switch (changedEventOf(o, changes)) {
    case "deleted":
      return encode(OrderDeletedSchema, { orderId: o.id, customerId: o.customerId, version, deleteTime: timestampFromDate(o.updateTime) });
    case "cancelled":
      return encode(OrderCancelledSchema, {
        order: toProtoOrder(o),
        version,
        changes: changes.map(toProtoChange),
        stockReturned: o.lines.map((l) => ({ productId: l.productId, variantId: l.variantId, quantity: l.quantity })),
      });
    case "statusChanged":
      return encode(OrderStatusChangedSchema, { order: toProtoOrder(o), version, changes: changes.map(toProtoChange) });
    case "shippingInfoChanged":
      return encode(OrderShippingInfoChangedSchema, { order: toProtoOrder(o), version });
  }
}

type Schema =
  | typeof OrderCreatedSchema
  | typeof OrderDeletedSchema
  | typeof OrderPaymentReportedSchema
  | typeof OrderRefundDueSchema
  | typeof OrderShipmentChangedSchema
  | typeof OrderReturnChangedSchema
  | typeof OrderUnshippedCancelledSchema
  | typeof OrderCancelledSchema
  | typeof OrderStatusChangedSchema
  | typeof OrderShippingInfoChangedSchema
  | typeof OrderNoteAddedSchema
  | typeof OrderTagsChangedSchema
  | typeof OrderMetadataChangedSchema;

function encode<S extends Schema>(schema: S, init: Parameters<typeof create<S>>[1]): EncodedEvent {
  return { type: schema.typeName, payload: toJson(schema, create(schema, init)) };
}
