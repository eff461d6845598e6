import type { CallContext } from "../../kernel/call-context.js";
import type { Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

/** A stock take: stock on hand becomes an absolute count. */
export type SetStock = (id: string, stockOnHand: bigint, cx: CallContext) => Promise<Product>;

export function createSetStock({ products, now, log }: Pick<InventoryAppPorts, "products" | "now" | "log">): SetStock {
  return async (id, stockOnHand, cx) => {
    cx.signal.throwIfAborted();
    const product = await products.changeStock(id, { set: stockOnHand }, now());
    log.info({ productId: id, stockOnHand: String(stockOnHand), actor: cx.actor }, "stock set");
    return product;
  };
}
