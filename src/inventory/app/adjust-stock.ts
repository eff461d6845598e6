import type { CallContext } from "../../kernel/call-context.js";
import type { Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

/** A delivery (positive delta) or breakage (negative). */
export type AdjustStock = (id: string, delta: bigint, reason: string, cx: CallContext) => Promise<Product>;

export function createAdjustStock({ products, now, log }: Pick<InventoryAppPorts, "products" | "now" | "log">): AdjustStock {
  return async (id, delta, reason, cx) => {
    cx.signal.throwIfAborted();
    const product = await products.changeStock(id, { add: delta }, now());
    log.info({ productId: id, delta: String(delta), reason, actor: cx.actor }, "stock adjusted");
    return product;
  };
}
