/**
 * Ordered by SKU (unique), keyset paged: the token holds the last SKU of the
 * page. The page size may change between pages.
 */
import type { CallContext } from "../../kernel/call-context.js";
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

export type ListProducts = (cx: CallContext, input: ListProductsInput) => Promise<ProductPage>;

/** What a token is bound to: the order (there is no filter). */
const TOKEN_QUERY = { list: "products", order: "sku asc" };
/** SKUs as CreateProduct accepts them. */
const SKU = /^[A-Za-z0-9._-]{1,64}$/;

export function createListProducts({ products }: Pick<InventoryAppPorts, "products">): ListProducts {
  return async (cx, input) => {
    const afterSku = decodePageToken(input.pageToken, TOKEN_QUERY, skuOf);
    const limit = effectivePageSize(input.pageSize);
    const rows = await products.list({ afterSku, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextPageToken = rows.length > limit && last ? encodePageToken([last.sku], TOKEN_QUERY) : "";
    return { products: page, nextPageToken };
  };
}

/** A page token's key: the last SKU of the page. */
function skuOf(key: readonly unknown[]): string | undefined {
  const [sku] = key;
  return key.length === 1 && typeof sku === "string" && SKU.test(sku) ? sku : undefined;
}
