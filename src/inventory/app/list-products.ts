/**
 * Ordered by SKU (unique), keyset paged: the token holds the last SKU of the
 * page. The page size may change between pages.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { invalidArgument } from "../../kernel/errors.js";
import { decodePageToken, encodePageToken } from "../../kernel/page-token.js";
import { effectivePageSize } from "../../kernel/paging.js";
import type { Product } from "../domain/product.js";
import type { InventoryAppPorts } from "./ports.js";

export interface ListProductsInput {
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface ProductPage {
  readonly products: Product[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export type ListProducts = (input: ListProductsInput, cx: CallContext) => Promise<ProductPage>;

/** What a token is bound to: the order (there is no filter). */
const TOKEN_QUERY = { order: "sku asc" };

export function createListProducts({ products }: Pick<InventoryAppPorts, "products">): ListProducts {
  return async (input, cx) => {
    cx.signal.throwIfAborted();
    const afterSku = skuOf(decodePageToken(input.pageToken, TOKEN_QUERY));
    const limit = effectivePageSize(input.pageSize);
    const rows = await products.list({ afterSku, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextPageToken = rows.length > limit && last ? encodePageToken([last.sku], TOKEN_QUERY) : "";
    return { products: page, nextPageToken };
  };
}

function skuOf(key: (string | number)[] | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length !== 1 || typeof key[0] !== "string") {
    throw invalidArgument("PAGE_TOKEN_INVALID", "page_token is not a token this service issued", [
      { field: "page_token", description: "not a token this service issued" },
    ]);
  }
  return key[0];
}
