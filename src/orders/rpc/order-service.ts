/** OrderService: decode → use case → encode. No business rule lives here. */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { callContextOf } from "../../platform/call-context.js";
import type { OrderUseCases } from "../app/use-cases.js";
import { fromProtoStatus, toGetOrderResponse, toListQuery, toNewOrderRequest, toProtoOrder } from "./order-codec.js";

const etagOf = (etag: string) => etag || undefined;

export function createOrderServiceImpl(uc: OrderUseCases, defaultDeadlineMs: number): ServiceImpl<typeof OrderService> {
  const cxOf = (ctx: HandlerContext) => callContextOf(ctx, defaultDeadlineMs);
  return {
    async createOrder(req, ctx) {
      return { order: toProtoOrder(await uc.createOrder(cxOf(ctx), toNewOrderRequest(req))) };
    },
    async getOrder(req) {
      return toGetOrderResponse(await uc.getOrder(req.orderId));
    },
    async listOrders(req) {
      const page = await uc.listOrders({ query: toListQuery(req), pageSize: req.pageSize, pageToken: req.pageToken });
      return { orders: page.orders.map(toProtoOrder), nextPageToken: page.nextPageToken };
    },
    async updateShippingInfo(req, ctx) {
      const info = { carrier: req.shippingInfo?.carrier ?? "", trackingNumber: req.shippingInfo?.trackingNumber ?? "" };
      const order = await uc.updateShippingInfo(cxOf(ctx), {
        orderId: req.orderId,
        shippingInfo: info,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order) };
    },
    async updateOrderStatus(req, ctx) {
      const order = await uc.updateOrderStatus(cxOf(ctx), {
        orderId: req.orderId,
        status: fromProtoStatus(req.status),
        reason: req.reason,
        etag: etagOf(req.etag),
      });
      return { order: toProtoOrder(order) };
    },
    async cancelOrder(req, ctx) {
      const order = await uc.cancelOrder(cxOf(ctx), { orderId: req.orderId, reason: req.reason, etag: etagOf(req.etag) });
      return { order: toProtoOrder(order) };
    },
    async deleteOrder(req, ctx) {
      await uc.deleteOrder(cxOf(ctx), { orderId: req.orderId, etag: etagOf(req.etag) });
      return {};
    },
    async *watchOrder(req, ctx) {
      for await (const order of uc.watchOrder(cxOf(ctx), req.orderId)) yield { order: toProtoOrder(order) };
    },
  };
}
