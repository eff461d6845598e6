/** OrderService: decode → use case → encode. No business rule lives here. */
import type { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import type { RpcImpl } from "../../platform/rpc/handlers.js";
import type { OrderUseCases } from "../app/use-cases.js";
import { fromProtoPaymentEventKind, fromProtoReturnStatus, fromProtoShipmentStatus, fromProtoStatus, toGetOrderResponse, toListQuery, toNewOrderRequest, toProtoOrder, toProtoReturn, toProtoShipment, toProtoStaffNote } from "./order-codec.js";
import { toProtoRecordedOrder } from "./recorded-orders.js";
import { toProtoTimelineEntry } from "./timeline-codec.js";
import { toSearchOrdersInput } from "./search-codec.js";

const etagOf = (etag: string) => etag || undefined;

/** Validation requires both fields once the message is set. */
const shippingInfoOf = (info: { carrier: string; trackingNumber: string } | undefined) =>
  info ? { carrier: info.carrier, trackingNumber: info.trackingNumber } : undefined;

export function createOrderServiceImpl(uc: OrderUseCases): RpcImpl<typeof OrderService> {
  return {
    async createOrder(req, cx) {
      return { order: toProtoOrder(await uc.createOrder(cx, toNewOrderRequest(req))) };
    },
    async getOrder(req, cx) {
      return toGetOrderResponse(await uc.getOrder(cx, req.orderId));
    },
    async listOrders(req, cx) {
      const page = await uc.listOrders(cx, { query: toListQuery(req), pageSize: req.pageSize, pageToken: req.pageToken });
      return { orders: page.orders.map(toProtoOrder), nextPageToken: page.nextPageToken };
    },
    async searchOrders(req, cx) {
      const page = await uc.searchOrders(cx, toSearchOrdersInput(req));
      return { orders: page.orders.map(toProtoOrder), nextPageToken: page.nextPageToken };
    },
    async updateShippingInfo(req, cx) {
      const info = { carrier: req.shippingInfo?.carrier ?? "", trackingNumber: req.shippingInfo?.trackingNumber ?? "" };
      const order = await uc.updateShippingInfo(cx, {
        orderId: req.orderId,
        shippingInfo: info,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order) };
    },
    async updateOrderStatus(req, cx) {
      const order = await uc.updateOrderStatus(cx, {
        orderId: req.orderId,
        status: fromProtoStatus(req.status),
        reason: req.reason,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order) };
    },
    async cancelOrder(req, cx) {
      const order = await uc.cancelOrder(cx, { orderId: req.orderId, reason: req.reason, etag: etagOf(req.etag) });
      return { order: toProtoOrder(order) };
    },
    async reportPayment(req, cx) {
      const order = await uc.reportPayment(cx, {
        orderId: req.orderId,
        providerEventId: req.providerEventId,
        kind: fromProtoPaymentEventKind(req.kind),
        amount: req.amount ? { currency: req.amount.currencyCode, amountMinor: req.amount.amountMinor } : undefined,
        reason: req.reason,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order) };
    },
    async createShipment(req, cx) {
      const { order, shipment } = await uc.createShipment(cx, {
        orderId: req.orderId,
        requestId: req.requestId,
        lines: req.lines.map((l) => ({ lineNo: l.lineNumber, quantity: l.quantity })),
        shippingInfo: shippingInfoOf(req.shippingInfo),
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order), shipment: toProtoShipment(shipment) };
    },
    async updateShipmentStatus(req, cx) {
      const { order, shipment } = await uc.updateShipmentStatus(cx, {
        orderId: req.orderId,
        shipmentId: req.shipmentId,
        status: fromProtoShipmentStatus(req.status),
        shippingInfo: shippingInfoOf(req.shippingInfo),
        reason: req.reason,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order), shipment: toProtoShipment(shipment) };
    },
    async cancelUnshipped(req, cx) {
      const order = await uc.cancelUnshipped(cx, { orderId: req.orderId, reason: req.reason, etag: etagOf(req.etag) });
      return { order: toProtoOrder(order) };
    },
    async requestReturn(req, cx) {
      const { order, ret } = await uc.requestReturn(cx, {
        orderId: req.orderId,
        requestId: req.requestId,
        lines: req.lines.map((l) => ({ lineNo: l.lineNumber, quantity: l.quantity })),
        reason: req.reason,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order), return: toProtoReturn(ret, order.total.currency) };
    },
    async updateReturnStatus(req, cx) {
      const { order, ret } = await uc.updateReturnStatus(cx, {
        orderId: req.orderId,
        returnId: req.returnId,
        status: fromProtoReturnStatus(req.status),
        reason: req.reason,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order), return: toProtoReturn(ret, order.total.currency) };
    },
    async listOrderTimeline(req, cx) {
      const page = await uc.listOrderTimeline(cx, { orderId: req.orderId, pageSize: req.pageSize, pageToken: req.pageToken });
      return { entries: page.entries.map(toProtoTimelineEntry), nextPageToken: page.nextPageToken };
    },
    async addOrderNote(req, cx) {
      const { order, note } = await uc.addOrderNote(cx, { orderId: req.orderId, requestId: req.requestId, text: req.text, etag: etagOf(req.etag) });
      return { order: toProtoOrder(order), note: toProtoStaffNote(note) };
    },
    async updateOrderTags(req, cx) {
      const order = await uc.updateOrderTags(cx, { orderId: req.orderId, add: req.addTags, remove: req.removeTags, etag: etagOf(req.etag) });
      return { order: toProtoOrder(order) };
    },
    async updateOrderMetadata(req, cx) {
      const order = await uc.updateOrderMetadata(cx, { orderId: req.orderId, set: req.set, remove: req.removeKeys, etag: etagOf(req.etag) });
      return { order: toProtoOrder(order) };
    },
    async deleteOrder(req, cx) {
      await uc.deleteOrder(cx, { orderId: req.orderId, etag: etagOf(req.etag) });
      return {};
    },
    async *watchOrder(req, cx) {
      for await (const m of uc.watchOrder(cx, { orderId: req.orderId, afterVersion: req.afterVersion })) {
        if (m.kind === "order") yield { order: toProtoOrder(m.order), version: m.order.version };
        else if (m.kind === "recorded") yield { order: toProtoRecordedOrder(m.order), version: m.version };
        else yield { version: m.version };
      }
    },
  };
}
