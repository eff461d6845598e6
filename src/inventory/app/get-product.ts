import type { CallContext } from "../../kernel/call-context.js";
import { productNotFound } from "../domain/errors.js";
import type { Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

export type GetProduct = (cx: CallContext, productId: string) => Promise<Product>;

export function createGetProduct({ products }: Pick<InventoryAppPorts, "products">): GetProduct {
  return async (cx, id) => {
    const product = await products.findById(id);
    if (!product) throw productNotFound(id);
    return product;
  };
}
