import type { CallContext } from "../../kernel/call-context.js";
import { applyProductPatch, type Product, type ProductPatch } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

export interface UpdateProductInput {
  readonly productId: string;
  readonly patch: ProductPatch;
}

export type UpdateProduct = (cx: CallContext, input: UpdateProductInput) => Promise<Product>;

export function createUpdateProduct({ products, now }: Pick<InventoryAppPorts, "products" | "now">): UpdateProduct {
  return async (cx, { productId: id, patch }) => {
    return products.update(id, (current) => applyProductPatch(current, patch, now()), cx);
  };
}
