/**
 * Seeded rows have ids derived from their index, so request generators (and
 * ghz templates, via printf) can name any of them without a data file:
 *
 *   product  i  →  10000000-0000-4000-8000-<i, 12 digits>
 *   customer i  →  20000000-0000-4000-8000-<i, 12 digits>
 *   order    i  →  30000000-0000-4000-8000-<i, 12 digits>
 *   shipment i  →  40000000-0000-4000-8000-<i, 12 digits> (the parcel of a shipped order i)
 *
 * Indexes start at 1. The same formulas appear in bench/lib/seed.ts (SQL),
 * bench/pgbench/create-order.sql and bench/ghz/*.json.
 */
export const PRODUCT_PREFIX = "10000000-0000-4000-8000-";
export const CUSTOMER_PREFIX = "20000000-0000-4000-8000-";
export const ORDER_PREFIX = "30000000-0000-4000-8000-";
export const SHIPMENT_PREFIX = "40000000-0000-4000-8000-";

const pad = (i: number) => String(i).padStart(12, "0");
export const productId = (i: number) => PRODUCT_PREFIX + pad(i);
export const customerId = (i: number) => CUSTOMER_PREFIX + pad(i);
export const orderId = (i: number) => ORDER_PREFIX + pad(i);

/** SQL expression of the id with index `expr` under `prefix` (a uuid). */
export const sqlId = (prefix: string, expr: string) => `('${prefix}' || lpad((${expr})::text, 12, '0'))::uuid`;

/**
 * How many customers own the first `orders` seeded orders: at least 10 orders
 * each (so a ListOrders page of 10 is always full), at most every customer.
 * Order i belongs to customer 1 + (i - 1) % ownersOfBatch(...) of its batch.
 */
export function customersWithOrders(orders: number, customers: number): number {
  return Math.max(1, Math.min(customers, Math.floor(orders / 10)));
}

/**
 * How many customers own the seed batch starting at order `from`: the first
 * batch (orders 1..firstBatch) goes to customersWithOrders(firstBatch, …),
 * every later batch to all customers.
 */
export function ownersOfBatch(from: number, firstBatch: number, customers: number): number {
  return from <= firstBatch ? customersWithOrders(firstBatch, customers) : customers;
}

/** The index of the customer who owns seeded order i (seed.ts: customer 1 + (i - 1) % owners of its batch). */
export function orderOwner(i: number, firstBatch: number, customers: number): number {
  return 1 + ((i - 1) % ownersOfBatch(i, firstBatch, customers));
}

/** Unit price (minor units, USD) of seeded product i; seed.ts uses the same formula. */
export const unitPriceOf = (i: number) => 100 + ((i * 37) % 9900);
