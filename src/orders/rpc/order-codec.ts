/** Proto ⇄ domain for orders. Proto types stop here. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OrderStatus as ProtoStatus,
  PaymentEventKind as ProtoPaymentEventKind,
  PaymentStatus as ProtoPaymentStatus,
  FulfilmentStatus as ProtoFulfilmentStatus,
  ShipmentStatus as ProtoShipmentStatus,
  ReturnStatus as ProtoReturnStatus,
  type Address as ProtoAddress,
  type Order as ProtoOrder,
  type Payment as ProtoPayment,
  type Return as ProtoReturn,
  type Shipment as ProtoShipment,
  type ShipmentLine as ProtoShipmentLine,
  type ShippingInfo as ProtoShippingInfo,
  type StaffNote as ProtoStaffNote,
  type StatusChange as ProtoStatusChange,
  GetOrderResponseSchema,
  type CreateOrderRequest,
  type GetOrderResponse,
  type ListOrdersRequest,
  type OrderSchema,
} from "../../../gen/orders/v1/order_service_pb.js";
import type { Money as ProtoMoney } from "../../../gen/common/v1/money_pb.js";
import { freezeMessage } from "../../platform/rpc/message-encoding.js";
import type { Money } from "../domain/money.js";
import type { NewOrderRequest } from "../domain/new-order.js";
import type { OrderStatus } from "../domain/order-status.js";
import type { Payment, PaymentEventKind } from "../domain/payment.js";
import type { Return, ReturnStatus } from "../domain/returns.js";
import { cancelledUnits, fulfilmentStatusOf, orderedUnits, type Shipment, type ShipmentStatus } from "../domain/fulfilment.js";
import { etagOf, type Address, type Order, type StatusChange } from "../domain/order.js";
import type { ListQuery } from "../domain/ports.js";
import type { StaffNote } from "../domain/annotations.js";

export type OrderInit = MessageInitShape<typeof OrderSchema>;

export const toProtoStatus = (s: OrderStatus): ProtoStatus => ProtoStatus[s];

/** Validation (not_in: [0], defined_only) guarantees a known, set status. */
export function fromProtoStatus(s: ProtoStatus): OrderStatus {
  const name = ProtoStatus[s];
  if (name === undefined || s === ProtoStatus.UNSPECIFIED) throw new RangeError(`unexpected order status ${s}`);
  return name as OrderStatus;
}

/*
 * Reads build their messages directly — `$typeName` and every field, which the generated types
 * enforce — instead of init objects that protobuf-es's `create` would walk field by field on the
 * way out (the transports pass a message through as it is). An order page of ten spent a quarter
 * of its building and encoding in `create` (BENCHMARKS "Notes, tags, metadata, the timeline…");
 * test/unit/orders/order-codec.test.ts holds these messages equal to `create`'s.
 */
const money = (currencyCode: string, amountMinor: bigint): ProtoMoney => ({ $typeName: "common.v1.Money", currencyCode, amountMinor });
const toMoney = (m: Money): ProtoMoney => money(m.currency, m.amountMinor);
const toProtoShippingInfo = (i: { carrier: string; trackingNumber: string }): ProtoShippingInfo => ({
  $typeName: "orders.v1.ShippingInfo",
  carrier: i.carrier,
  trackingNumber: i.trackingNumber,
});
const toProtoShipmentLine = (l: { lineNo: number; quantity: number }): ProtoShipmentLine => ({
  $typeName: "orders.v1.ShipmentLine",
  lineNumber: l.lineNo,
  quantity: l.quantity,
});

export const toProtoPaymentEventKind = (k: PaymentEventKind): ProtoPaymentEventKind => ProtoPaymentEventKind[k];

/** Validation (not_in: [0], defined_only) guarantees a known, set kind. */
export function fromProtoPaymentEventKind(k: ProtoPaymentEventKind): PaymentEventKind {
  const name = ProtoPaymentEventKind[k];
  if (name === undefined || k === ProtoPaymentEventKind.UNSPECIFIED) throw new RangeError(`unexpected payment event kind ${k}`);
  return name as PaymentEventKind;
}

export function toProtoShipment(sh: Shipment): ProtoShipment {
  return {
    $typeName: "orders.v1.Shipment",
    id: sh.id,
    status: ProtoShipmentStatus[sh.status],
    lines: sh.lines.map(toProtoShipmentLine),
    shippingInfo: sh.shippingInfo ? toProtoShippingInfo(sh.shippingInfo) : undefined,
    requestId: sh.requestId,
    createTime: timestampFromDate(sh.createTime),
    shipTime: sh.shipTime ? timestampFromDate(sh.shipTime) : undefined,
    deliverTime: sh.deliverTime ? timestampFromDate(sh.deliverTime) : undefined,
  };
}

/** Validation (not_in: [0], defined_only) guarantees a known, set status. */
export function fromProtoShipmentStatus(s: ProtoShipmentStatus): ShipmentStatus {
  const name = ProtoShipmentStatus[s];
  if (name === undefined || s === ProtoShipmentStatus.UNSPECIFIED) throw new RangeError(`unexpected shipment status ${s}`);
  return name as ShipmentStatus;
}

export function toProtoReturn(r: Return, currency: string): ProtoReturn {
  return {
    $typeName: "orders.v1.Return",
    id: r.id,
    status: ProtoReturnStatus[r.status],
    lines: r.lines.map(toProtoShipmentLine),
    reason: r.reason,
    requestId: r.requestId,
    refund: r.refundMinor === undefined ? undefined : money(currency, r.refundMinor),
    createTime: timestampFromDate(r.createTime),
    updateTime: timestampFromDate(r.updateTime),
  };
}

/** Validation (not_in: [0], defined_only) guarantees a known, set status. */
export function fromProtoReturnStatus(s: ProtoReturnStatus): ReturnStatus {
  const name = ProtoReturnStatus[s];
  if (name === undefined || s === ProtoReturnStatus.UNSPECIFIED) throw new RangeError(`unexpected return status ${s}`);
  return name as ReturnStatus;
}

/** A new order's payment (nothing reported): one frozen message, no amounts. */
const UNPAID: ProtoPayment = Object.freeze({
  $typeName: "orders.v1.Payment",
  status: ProtoPaymentStatus.PENDING,
  authorized: undefined,
  captured: undefined,
  refunded: undefined,
  refundPending: undefined,
});

/** Amounts that are zero stay unset (the contract: unset means zero): most orders' reads and events carry only the status. */
function toProtoPayment(p: Payment, currency: string): ProtoPayment {
  if (p.status === "PENDING" && p.authorizedMinor === 0n && p.refundPendingMinor === 0n) return UNPAID;
  const amount = (amountMinor: bigint) => (amountMinor === 0n ? undefined : money(currency, amountMinor));
  return {
    $typeName: "orders.v1.Payment",
    status: ProtoPaymentStatus[p.status],
    authorized: amount(p.authorizedMinor),
    captured: amount(p.capturedMinor),
    refunded: amount(p.refundedMinor),
    refundPending: amount(p.refundPendingMinor),
  };
}

export function toProtoChange(h: StatusChange): ProtoStatusChange {
  return {
    $typeName: "orders.v1.StatusChange",
    fromStatus: h.from ? toProtoStatus(h.from) : ProtoStatus.UNSPECIFIED,
    toStatus: toProtoStatus(h.to),
    reason: h.reason,
    actor: h.actor,
    changeTime: timestampFromDate(h.at),
  };
}

export function toProtoStaffNote(n: StaffNote): ProtoStaffNote {
  return { $typeName: "orders.v1.StaffNote", id: n.id, text: n.text, author: n.author, requestId: n.requestId, createTime: timestampFromDate(n.createTime) };
}

export function toProtoOrder(o: Order): ProtoOrder {
  // Once per order (every read): what was cancelled, and from it what is still ordered.
  const cancelled = cancelledUnits(o);
  const ordered = orderedUnits(o, cancelled);
  return {
    $typeName: "orders.v1.Order",
    id: o.id,
    customerId: o.customerId,
    status: toProtoStatus(o.status),
    lines: o.lines.map((l, i) => ({
      $typeName: "orders.v1.OrderLine",
      productId: l.productId,
      variantId: l.variantId,
      quantity: l.quantity,
      unitPrice: toMoney(l.unitPrice),
      lineTotal: toMoney(l.lineTotal),
      cancelledQuantity: cancelled[i] ?? 0,
    })),
    total: toMoney(o.total),
    shippingAddress: o.shippingAddress ? { $typeName: "orders.v1.Address", ...o.shippingAddress } : undefined,
    shippingInfo: o.shippingInfo ? toProtoShippingInfo(o.shippingInfo) : undefined,
    requestId: o.requestId,
    number: o.number,
    history: o.history.map(toProtoChange),
    payment: toProtoPayment(o.payment, o.total.currency),
    shipments: o.shipments.map(toProtoShipment),
    returns: o.returns.map((r) => toProtoReturn(r, o.total.currency)),
    fulfilmentStatus: ProtoFulfilmentStatus[fulfilmentStatusOf(ordered, o.shipments)],
    customerNote: o.customerNote,
    // Staff only: wrapService empties them in answers to customers ((access.v1.staff_only)).
    staffNotes: o.staffNotes.map(toProtoStaffNote),
    tags: [...o.tags],
    metadata: { ...o.metadata },
    etag: etagOf(o),
    createTime: timestampFromDate(o.createTime),
    updateTime: timestampFromDate(o.updateTime),
  };
}

/**
 * GetOrder's response, built once per Order object: an order served from the
 * read cache is the same object on every hit, so repeated hits return the
 * same message and do no conversion. It is frozen when it is answered a
 * second time — from then on the servers reuse its encoding
 * (src/platform/rpc/message-encoding.ts) — not when built: most answers are
 * cache misses answered once, and freezing an order's ~30 objects cost more
 * than building them (14 µs against 12 µs per answer; BENCHMARKS "GetOrder
 * and ListOrders after issue 14"). Nothing changes the message meanwhile
 * (the staff-only redactor copies). Entries live as long as the Order.
 */
const responses = new WeakMap<Order, GetOrderResponse>();

export function toGetOrderResponse(o: Order): GetOrderResponse {
  const built = responses.get(o);
  if (built) return Object.isFrozen(built) ? built : freezeMessage(built);
  const res = create(GetOrderResponseSchema, { order: toProtoOrder(o) });
  responses.set(o, res);
  return res;
}

function fromProtoAddress(a: ProtoAddress | undefined): Address | undefined {
  if (!a) return undefined;
  const { recipientName, line1, line2, city, region, postalCode, countryCode } = a;
  return { recipientName, line1, line2, city, region, postalCode, countryCode };
}

export function toNewOrderRequest(req: CreateOrderRequest): NewOrderRequest {
  return {
    customerId: req.customerId,
    requestId: req.requestId,
    items: req.items.map((i) => ({ productId: i.productId, variantId: i.variantId, quantity: i.quantity })),
    shippingAddress: fromProtoAddress(req.shippingAddress),
    customerNote: req.customerNote,
  };
}

/** ListOrders' filters; SearchOrdersRequest has the same fields (search-codec.ts). */
export function toListQuery(req: Pick<ListOrdersRequest, "customerId" | "statuses" | "createTimeStart" | "createTimeEnd" | "orderBy">): ListQuery {
  return {
    customerId: req.customerId || undefined,
    statuses: req.statuses.map(fromProtoStatus),
    createTimeStart: req.createTimeStart ? timestampDate(req.createTimeStart) : undefined,
    createTimeEnd: req.createTimeEnd ? timestampDate(req.createTimeEnd) : undefined,
    descending: req.orderBy !== "create_time asc",
  };
}
