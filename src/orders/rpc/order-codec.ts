/** Proto ⇄ domain for orders. Proto types stop here. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OrderStatus as ProtoStatus,
  PaymentEventKind as ProtoPaymentEventKind,
  PaymentStatus as ProtoPaymentStatus,
  type Address as ProtoAddress,
  GetOrderResponseSchema,
  type CreateOrderRequest,
  type GetOrderResponse,
  type ListOrdersRequest,
  type OrderSchema,
  type StatusChangeSchema,
} from "../../../gen/orders/v1/order_service_pb.js";
import { freezeMessage } from "../../platform/message-encoding.js";
import type { Money } from "../domain/money.js";
import type { NewOrderRequest } from "../domain/new-order.js";
import type { OrderStatus } from "../domain/order-status.js";
import type { Payment, PaymentEventKind } from "../domain/payment.js";
import { etagOf, type Address, type Order, type StatusChange } from "../domain/order.js";
import type { ListQuery } from "../domain/ports.js";

export type OrderInit = MessageInitShape<typeof OrderSchema>;

export const toProtoStatus = (s: OrderStatus): ProtoStatus => ProtoStatus[s];

/** Validation (not_in: [0], defined_only) guarantees a known, set status. */
export function fromProtoStatus(s: ProtoStatus): OrderStatus {
  const name = ProtoStatus[s];
  if (name === undefined || s === ProtoStatus.UNSPECIFIED) throw new RangeError(`unexpected order status ${s}`);
  return name as OrderStatus;
}

const toMoney = (m: Money) => ({ currencyCode: m.currency, amountMinor: m.amountMinor });

export const toProtoPaymentEventKind = (k: PaymentEventKind): ProtoPaymentEventKind => ProtoPaymentEventKind[k];

/** Validation (not_in: [0], defined_only) guarantees a known, set kind. */
export function fromProtoPaymentEventKind(k: ProtoPaymentEventKind): PaymentEventKind {
  const name = ProtoPaymentEventKind[k];
  if (name === undefined || k === ProtoPaymentEventKind.UNSPECIFIED) throw new RangeError(`unexpected payment event kind ${k}`);
  return name as PaymentEventKind;
}

function toProtoPayment(p: Payment, currency: string) {
  const money = (amountMinor: bigint) => ({ currencyCode: currency, amountMinor });
  return {
    status: ProtoPaymentStatus[p.status],
    authorized: money(p.authorizedMinor),
    captured: money(p.capturedMinor),
    refunded: money(p.refundedMinor),
    refundPending: money(p.refundPendingMinor),
  };
}

export function toProtoChange(h: StatusChange): MessageInitShape<typeof StatusChangeSchema> {
  return {
    fromStatus: h.from ? toProtoStatus(h.from) : ProtoStatus.UNSPECIFIED,
    toStatus: toProtoStatus(h.to),
    reason: h.reason,
    actor: h.actor,
    changeTime: timestampFromDate(h.at),
  };
}

export function toProtoOrder(o: Order): OrderInit {
  return {
    id: o.id,
    customerId: o.customerId,
    status: toProtoStatus(o.status),
    lines: o.lines.map((l) => ({
      productId: l.productId,
      variantId: l.variantId,
      quantity: l.quantity,
      unitPrice: toMoney(l.unitPrice),
      lineTotal: toMoney(l.lineTotal),
    })),
    total: toMoney(o.total),
    shippingAddress: o.shippingAddress ? { ...o.shippingAddress } : undefined,
    shippingInfo: o.shippingInfo ? { ...o.shippingInfo } : undefined,
    requestId: o.requestId,
    number: o.number,
    history: o.history.map(toProtoChange),
    payment: toProtoPayment(o.payment, o.total.currency),
    etag: etagOf(o),
    createTime: timestampFromDate(o.createTime),
    updateTime: timestampFromDate(o.updateTime),
  };
}

/**
 * GetOrder's response, built once per Order object: an order served from the
 * read cache is the same object on every hit, so repeated hits return the
 * same frozen message and do no conversion, and the servers reuse its
 * encoding (src/platform/message-encoding.ts). Entries live as long as the Order.
 */
const responses = new WeakMap<Order, GetOrderResponse>();

export function toGetOrderResponse(o: Order): GetOrderResponse {
  let res = responses.get(o);
  if (!res) responses.set(o, (res = freezeMessage(create(GetOrderResponseSchema, { order: toProtoOrder(o) }))));
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
  };
}

export function toListQuery(req: ListOrdersRequest): ListQuery {
  return {
    customerId: req.customerId || undefined,
    statuses: req.statuses.map(fromProtoStatus),
    createTimeStart: req.createTimeStart ? timestampDate(req.createTimeStart) : undefined,
    createTimeEnd: req.createTimeEnd ? timestampDate(req.createTimeEnd) : undefined,
    descending: req.orderBy !== "create_time asc",
  };
}
