/**
 * The Customer aggregate: plain data plus the pure rules that create and
 * change it. The etag is the row version; it changes on every real change.
 */
import { aborted } from "../../kernel/errors.js";

export const CUSTOMER_TIERS = ["STANDARD", "VIP"] as const;
export const CUSTOMER_STATUSES = ["ACTIVE", "SUSPENDED"] as const;
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export interface Customer {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly tier: CustomerTier;
  readonly status: CustomerStatus;
  /** Starts at 1, +1 on every change; the etag is derived from it. */
  readonly version: number;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export interface NewCustomerInput {
  readonly email: string;
  readonly displayName: string;
  /** STANDARD when undefined. */
  readonly tier?: CustomerTier;
}

/** The fields an update may change; undefined leaves a field as it is. */
export interface CustomerPatch {
  readonly email?: string;
  readonly displayName?: string;
  readonly tier?: CustomerTier;
  readonly status?: CustomerStatus;
}

export interface CustomerUpdate {
  readonly patch: CustomerPatch;
  /** Empty: unconditional. Otherwise must equal the current etag. */
  readonly etag: string;
}

export function etagOf(c: Pick<Customer, "version">): string {
  return String(c.version);
}

export function newCustomer(id: string, input: NewCustomerInput, now: Date): Customer {
  return {
    id,
    email: input.email,
    displayName: input.displayName,
    tier: input.tier ?? "STANDARD",
    status: "ACTIVE",
    version: 1,
    createTime: now,
    updateTime: now,
  };
}

/** Throws ABORTED ETAG_MISMATCH when `etag` is set and stale. */
export function checkEtag(c: Customer, etag: string): void {
  if (etag === "" || etag === etagOf(c)) return;
  throw aborted("ETAG_MISMATCH", `customer ${c.id} has changed (etag ${etagOf(c)}, given ${etag})`, {
    customerId: c.id,
    etag: etagOf(c),
  });
}

/**
 * The customer after `update`. Returns `c` itself when nothing would change,
 * so the etag only moves on real changes.
 */
export function applyUpdate(c: Customer, update: CustomerUpdate, now: Date): Customer {
  checkEtag(c, update.etag);
  const { patch } = update;
  const next: Customer = {
    ...c,
    email: patch.email ?? c.email,
    displayName: patch.displayName ?? c.displayName,
    tier: patch.tier ?? c.tier,
    status: patch.status ?? c.status,
  };
  if (!hasChanged(c, next)) return c;
  return { ...next, version: c.version + 1, updateTime: laterOf(now, c.updateTime) };
}

function hasChanged(a: Customer, b: Customer): boolean {
  return a.email !== b.email || a.displayName !== b.displayName || a.tier !== b.tier || a.status !== b.status;
}

/** update_time never goes backwards, even if clocks do. */
function laterOf(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}
