import type { CallContext } from "../../kernel/call-context.js";
import type { Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

/** A delivery (positive delta) or breakage (negative). */
export interface AdjustStockInput {
  readonly productId: string;
  readonly delta: bigint;
  readonly reason: string;
}

export type AdjustStock = (cx: CallContext, input: AdjustStockInput) => Promise<Product>;

export function createAdjustStock({ products, now, log }: Pick<InventoryAppPorts, "products" | "now" | "log">): AdjustStock {
  return async (cx, { productId: id, delta, reason }) => {
    const product = await products.changeStock(id, { add: delta }, now(), cx);
    log.info({ productId: id, delta: String(delta), reason, actor: cx.actor }, "stock adjusted");
    return product;
  };
}
