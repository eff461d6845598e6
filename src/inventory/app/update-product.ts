import type { CallContext } from "../../kernel/call-context.js";
import { applyProductPatch, type Product, type ProductPatch } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

export type UpdateProduct = (id: string, patch: ProductPatch, cx: CallContext) => Promise<Product>;

export function createUpdateProduct({ products, now }: Pick<InventoryAppPorts, "products" | "now">): UpdateProduct {
  return async (id, patch, cx) => {
    cx.signal.throwIfAborted();
    return products.update(id, (current) => applyProductPatch(current, patch, now()));
  };
}
