/**
 * What seeded order i is besides its ids (ids.ts): its status, payment,
 * fulfilment and tags, so searches find realistic shares of the orders. One
 * source for the seed's SQL (seed.ts) and for the search scenarios' requests
 * (scenarios.ts), so neither can drift from the other.
 */

/** Status and fulfilment status by i % 10: shipped and delivered orders carry one parcel with every unit (fulfilment consistent with status). */
export const STATUS_BY_I_MOD_10 = [
  ...Array<readonly [string, string]>(6).fill(["CONFIRMED", "UNFULFILLED"]),
  ["PROCESSING", "UNFULFILLED"],
  ["SHIPPED", "SHIPPED"],
  ["DELIVERED", "DELIVERED"],
  ["DELIVERED", "DELIVERED"],
] as const satisfies readonly (readonly [string, string])[];

/** Payment status by i % 8; the amounts follow (authorised and captured in full, half or all refunded). */
export const PAYMENT_BY_I_MOD_8 = ["PENDING", "PENDING", "AUTHORIZED", "CAPTURED", "CAPTURED", "CAPTURED", "PARTIALLY_REFUNDED", "REFUNDED"] as const;

/** Tags: order i has a tag when i is a multiple of its number ("gift" on 5% of orders, "vip" on 2%; both on 1%). */
export const TAG_EVERY = { gift: 20, vip: 50 } as const;

export const SEEDED_STATUSES = [...new Set(STATUS_BY_I_MOD_10.map(([s]) => s))];
export const SEEDED_FULFILMENT_STATUSES = [...new Set(STATUS_BY_I_MOD_10.map(([, f]) => f))];
export const SEEDED_PAYMENT_STATUSES = [...new Set(PAYMENT_BY_I_MOD_8)];
export const SEEDED_TAGS = Object.keys(TAG_EVERY) as (keyof typeof TAG_EVERY)[];

/** Seeded order i was created at this time (one a second from 2024-01-01, UTC); seed.ts writes the same. */
export const SEED_EPOCH_MS = Date.UTC(2024, 0, 1);
export const seededCreateTime = (i: number) => new Date(SEED_EPOCH_MS + i * 1000);

/** The first order number the sequence hands out (migrations/0006_order_numbers.sql): seeded order i has about FIRST_NUMBER + i - 1. */
export const FIRST_NUMBER = 100_001;
