/** Every inventory use case, built from one set of ports. */
import { createAdjustStock, type AdjustStock } from "./adjust-stock.js";
import { createCommitReservation, type CommitReservation } from "./commit-reservation.js";
import { createCreateProduct, type CreateProduct } from "./create-product.js";
import { createExpireReservations, type ExpireReservations } from "./expire-reservations.js";
import { createGetProduct, type GetProduct } from "./get-product.js";
import { createGetReservation, type GetReservation } from "./get-reservation.js";
import { createListProducts, type ListProducts } from "./list-products.js";
import type { InventoryAppPorts } from "./ports.js";
import { createReleaseReservation, type ReleaseReservation } from "./release-reservation.js";
import { createReserveStock, type ReserveStock } from "./reserve-stock.js";
import { createReturnStock, type ReturnStock } from "./return-stock.js";
import { createSetStock, type SetStock } from "./set-stock.js";
import { createUpdateProduct, type UpdateProduct } from "./update-product.js";

export interface InventoryUseCases {
  readonly createProduct: CreateProduct;
  readonly getProduct: GetProduct;
  readonly listProducts: ListProducts;
  readonly updateProduct: UpdateProduct;
  readonly setStock: SetStock;
  readonly adjustStock: AdjustStock;
  readonly reserveStock: ReserveStock;
  readonly commitReservation: CommitReservation;
  readonly releaseReservation: ReleaseReservation;
  readonly returnStock: ReturnStock;
  readonly getReservation: GetReservation;
  readonly expireReservations: ExpireReservations;
}

export function createInventoryUseCases(ports: InventoryAppPorts): InventoryUseCases {
  return {
    createProduct: createCreateProduct(ports),
    getProduct: createGetProduct(ports),
    listProducts: createListProducts(ports),
    updateProduct: createUpdateProduct(ports),
    setStock: createSetStock(ports),
    adjustStock: createAdjustStock(ports),
    reserveStock: createReserveStock(ports),
    commitReservation: createCommitReservation(ports),
    releaseReservation: createReleaseReservation(ports),
    returnStock: createReturnStock(ports),
    getReservation: createGetReservation(ports),
    expireReservations: createExpireReservations(ports),
  };
}
