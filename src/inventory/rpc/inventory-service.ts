/**
 * InventoryService over the wire: decode → use case → encode. Requests arrive
 * validated (wrapService), so nothing here re-checks their shape.
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AdjustStockResponseSchema,
  CommitReservationResponseSchema,
  CreateProductResponseSchema,
  GetProductResponseSchema,
  GetReservationResponseSchema,
  InventoryService,
  ListProductsResponseSchema,
  ReleaseReservationResponseSchema,
  ReserveStockResponseSchema,
  SetStockResponseSchema,
  UpdateProductResponseSchema,
} from "../../../gen/inventory/v1/inventory_service_pb.js";
import type { CallContext } from "../../kernel/call-context.js";
import { callContextOf } from "../../platform/call-context.js";
import type { InventoryUseCases } from "../app/use-cases.js";
import {
  linesFromPb,
  optionalMoneyFromPb,
  productToPb,
  requiredMoneyFromPb,
  reservationToPb,
  ttlMsFromPb,
} from "./inventory-mapping.js";

export function createInventoryServiceImpl(
  uc: InventoryUseCases,
  defaultDeadlineMs: number,
): ServiceImpl<typeof InventoryService> {
  const cxOf = (ctx: HandlerContext): CallContext => callContextOf(ctx, defaultDeadlineMs);
  return {
    async createProduct(req, ctx) {
      const input = {
        sku: req.sku,
        name: req.name,
        description: req.description,
        unitPrice: requiredMoneyFromPb(req.unitPrice),
        initialStock: req.initialStock,
      };
      const product = await uc.createProduct(input, cxOf(ctx));
      return create(CreateProductResponseSchema, { product: productToPb(product) });
    },

    async getProduct(req, ctx) {
      const product = await uc.getProduct(req.productId, cxOf(ctx));
      return create(GetProductResponseSchema, { product: productToPb(product) });
    },

    async listProducts(req, ctx) {
      const page = await uc.listProducts({ pageSize: req.pageSize, pageToken: req.pageToken }, cxOf(ctx));
      return create(ListProductsResponseSchema, {
        products: page.products.map(productToPb),
        nextPageToken: page.nextPageToken,
      });
    },

    async updateProduct(req, ctx) {
      const patch = {
        sku: req.sku,
        name: req.name,
        description: req.description,
        unitPrice: optionalMoneyFromPb(req.unitPrice),
      };
      const product = await uc.updateProduct(req.productId, patch, cxOf(ctx));
      return create(UpdateProductResponseSchema, { product: productToPb(product) });
    },

    async setStock(req, ctx) {
      const product = await uc.setStock(req.productId, req.stockOnHand, cxOf(ctx));
      return create(SetStockResponseSchema, { product: productToPb(product) });
    },

    async adjustStock(req, ctx) {
      const product = await uc.adjustStock(req.productId, req.delta, req.reason, cxOf(ctx));
      return create(AdjustStockResponseSchema, { product: productToPb(product) });
    },

    async reserveStock(req, ctx) {
      const input = { reservationId: req.reservationId, lines: linesFromPb(req.lines), ttlMs: ttlMsFromPb(req.ttl) };
      const reservation = await uc.reserveStock(input, cxOf(ctx));
      return create(ReserveStockResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async commitReservation(req, ctx) {
      const reservation = await uc.commitReservation(req.reservationId, cxOf(ctx));
      return create(CommitReservationResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async releaseReservation(req, ctx) {
      const reservation = await uc.releaseReservation(req.reservationId, req.reason, cxOf(ctx));
      return create(ReleaseReservationResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async getReservation(req, ctx) {
      const reservation = await uc.getReservation(req.reservationId, cxOf(ctx));
      return create(GetReservationResponseSchema, { reservation: reservationToPb(reservation) });
    },
  };
}
