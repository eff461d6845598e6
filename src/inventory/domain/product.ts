/**
 * A catalog product with its stock. Stock counts are bigint (int64 on the
 * wire); `available` is derived, never stored.
 */
import { stockBelowReserved, stockOutOfRange } from "./errors.js";
import type { Money } from "./money.js";

export interface Product {
  readonly id: string;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly unitPrice: Money;
  /** Units the warehouse holds, reserved ones included. */
  readonly stockOnHand: bigint;
  /** Units held by pending reservations. */
  readonly reserved: bigint;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export interface NewProductInput {
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly unitPrice: Money;
  readonly initialStock: bigint;
}

/** Catalog fields an update may change; undefined leaves a field as it is. */
export interface ProductPatch {
  readonly sku?: string;
  readonly name?: string;
  readonly description?: string;
  readonly unitPrice?: Money;
}

export function available(p: Pick<Product, "stockOnHand" | "reserved">): bigint {
  return p.stockOnHand - p.reserved;
}

export function newProduct(id: string, input: NewProductInput, now: Date): Product {
  return {
    id,
    sku: input.sku,
    name: input.name,
    description: input.description,
    unitPrice: input.unitPrice,
    stockOnHand: input.initialStock,
    reserved: 0n,
    createTime: now,
    updateTime: now,
  };
}

/** The product after `patch`; `p` itself when nothing would change. */
export function applyProductPatch(p: Product, patch: ProductPatch, now: Date): Product {
  const next: Product = {
    ...p,
    sku: patch.sku ?? p.sku,
    name: patch.name ?? p.name,
    description: patch.description ?? p.description,
    unitPrice: patch.unitPrice ?? p.unitPrice,
  };
  if (!catalogChanged(p, next)) return p;
  return { ...next, updateTime: laterOf(now, p.updateTime) };
}

function catalogChanged(a: Product, b: Product): boolean {
  return (
    a.sku !== b.sku ||
    a.name !== b.name ||
    a.description !== b.description ||
    a.unitPrice.currency !== b.unitPrice.currency ||
    a.unitPrice.amountMinor !== b.unitPrice.amountMinor
  );
}

/** Throws FAILED_PRECONDITION STOCK_BELOW_RESERVED when `stockOnHand` cannot hold what is reserved. */
/** The largest stock on hand (an int64 column). */
export const MAX_STOCK = 2n ** 63n - 1n;

export function checkStockOnHand(p: Pick<Product, "id" | "reserved">, stockOnHand: bigint): void {
  if (stockOnHand > MAX_STOCK) throw stockOutOfRange(p.id);
  if (stockOnHand < p.reserved) throw stockBelowReserved(p.id, stockOnHand, p.reserved);
}

/** update_time never goes backwards, even if clocks do. */
export function laterOf(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}
