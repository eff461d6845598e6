/**
 * InventoryService over the wire: decode → use case → encode. Requests arrive
 * validated (wrapService), so nothing here re-checks their shape.
 */
import { create } from "@bufbuild/protobuf";
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
  ReturnStockResponseSchema,
  SetStockResponseSchema,
  UpdateProductResponseSchema,
} from "../../../gen/inventory/v1/inventory_service_pb.js";
import type { RpcImpl } from "../../platform/rpc/handlers.js";
import type { InventoryUseCases } from "../app/use-cases.js";
import {
  linesFromPb,
  optionalMoneyFromPb,
  productToPb,
  requiredMoneyFromPb,
  reservationToPb,
  ttlMsFromPb,
} from "./inventory-mapping.js";

export function createInventoryServiceImpl(uc: InventoryUseCases): RpcImpl<typeof InventoryService> {
  return {
    async createProduct(req, cx) {
      const input = {
        sku: req.sku,
        name: req.name,
        description: req.description,
        unitPrice: requiredMoneyFromPb(req.unitPrice),
        initialStock: req.initialStock,
      };
      const product = await uc.createProduct(cx, input);
      return create(CreateProductResponseSchema, { product: productToPb(product) });
    },

    async getProduct(req, cx) {
      const product = await uc.getProduct(cx, req.productId);
      return create(GetProductResponseSchema, { product: productToPb(product) });
    },

    async listProducts(req, cx) {
      const page = await uc.listProducts(cx, { pageSize: req.pageSize, pageToken: req.pageToken });
      return create(ListProductsResponseSchema, {
        products: page.products.map(productToPb),
        nextPageToken: page.nextPageToken,
      });
    },

    async updateProduct(req, cx) {
      const patch = {
        sku: req.sku,
        name: req.name,
        description: req.description,
        unitPrice: optionalMoneyFromPb(req.unitPrice),
      };
      const product = await uc.updateProduct(cx, { productId: req.productId, patch });
      return create(UpdateProductResponseSchema, { product: productToPb(product) });
    },

    async setStock(req, cx) {
      const product = await uc.setStock(cx, { productId: req.productId, stockOnHand: req.stockOnHand });
      return create(SetStockResponseSchema, { product: productToPb(product) });
    },

    async adjustStock(req, cx) {
      const product = await uc.adjustStock(cx, { productId: req.productId, delta: req.delta, reason: req.reason });
      return create(AdjustStockResponseSchema, { product: productToPb(product) });
    },

    async reserveStock(req, cx) {
      const input = { reservationId: req.reservationId, lines: linesFromPb(req.lines), ttlMs: ttlMsFromPb(req.ttl) };
      const reservation = await uc.reserveStock(cx, input);
      return create(ReserveStockResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async commitReservation(req, cx) {
      const reservation = await uc.commitReservation(cx, req.reservationId);
      return create(CommitReservationResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async releaseReservation(req, cx) {
      const reservation = await uc.releaseReservation(cx, { reservationId: req.reservationId, reason: req.reason });
      return create(ReleaseReservationResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async returnStock(req, cx) {
      const input = { reservationId: req.reservationId, returnId: req.returnId, lines: linesFromPb(req.lines), reason: req.reason };
      const reservation = await uc.returnStock(cx, input);
      return create(ReturnStockResponseSchema, { reservation: reservationToPb(reservation) });
    },

    async getReservation(req, cx) {
      const reservation = await uc.getReservation(cx, req.reservationId);
      return create(GetReservationResponseSchema, { reservation: reservationToPb(reservation) });
    },
  };
}
