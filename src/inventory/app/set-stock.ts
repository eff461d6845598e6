import type { CallContext } from "../../kernel/call-context.js";
import type { Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

/** A stock take: stock on hand becomes an absolute count. */
export interface SetStockInput {
  readonly productId: string;
  readonly stockOnHand: bigint;
}

export type SetStock = (cx: CallContext, input: SetStockInput) => Promise<Product>;

export function createSetStock({ products, now, log }: Pick<InventoryAppPorts, "products" | "now" | "log">): SetStock {
  return async (cx, { productId: id, stockOnHand }) => {
    const product = await products.changeStock(id, { set: stockOnHand }, now(), cx);
    log.info({ productId: id, stockOnHand: String(stockOnHand), actor: cx.actor }, "stock set");
    return product;
  };
}
