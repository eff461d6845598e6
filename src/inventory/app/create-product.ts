import type { CallContext } from "../../kernel/call-context.js";
import { newProduct, type NewProductInput, type Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

export type CreateProduct = (cx: CallContext, input: NewProductInput) => Promise<Product>;

export function createCreateProduct({ products, now, newId }: InventoryAppPorts): CreateProduct {
  return async (cx, input) => {
    return products.insert(newProduct(newId(), input, now()));
  };
}
