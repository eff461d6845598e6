/** The Order aggregate: plain data, changed only through `decide` (transition.ts). */
import { createHash } from "node:crypto";
import type { Money } from "./money.js";
import type { OrderStatus } from "./order-status.js";
import type { Restock, Shipment } from "./fulfilment.js";
import type { Return } from "./returns.js";
import type { StaffNote } from "./annotations.js";
import type { Payment } from "./payment.js";

export interface Address {
  readonly recipientName: string;
  readonly line1: string;
  readonly line2: string;
  readonly city: string;
  readonly region: string;
  readonly postalCode: string;
  readonly countryCode: string;
}

export interface ShippingInfo {
  readonly carrier: string;
  readonly trackingNumber: string;
}

export interface OrderLine {
  readonly productId: string;
  readonly variantId: string;
  readonly quantity: number;
  readonly unitPrice: Money;
  readonly lineTotal: Money;
}

export interface StatusChange {
  /** undefined for the creation entry. */
  readonly from: OrderStatus | undefined;
  readonly to: OrderStatus;
  readonly reason: string;
  readonly actor: string;
  readonly at: Date;
}

/**
 * Where the order's inventory reservation stands, as far as this service
 * knows. PENDING: held, commit not yet confirmed. COMMITTED: sold.
 * RELEASE_PENDING: the order was cancelled, the release not yet confirmed.
 * RELEASED: the stock is back. The reconciler drives PENDING and
 * RELEASE_PENDING forward.
 */
export type ReservationState = "PENDING" | "COMMITTED" | "RELEASE_PENDING" | "RELEASED";

export interface Order {
  readonly id: string;
  /** The order number, in decimal ("100001"): assigned when the order is stored; "" before. */
  readonly number: string;
  readonly customerId: string;
  readonly requestId: string;
  readonly status: OrderStatus;
  readonly lines: readonly OrderLine[];
  readonly total: Money;
  readonly shippingAddress: Address | undefined;
  readonly shippingInfo: ShippingInfo | undefined;
  readonly history: readonly StatusChange[];
  /** The payment, apart from the status (domain/payment.ts). */
  readonly payment: Payment;
  /** The parcels, oldest first (domain/fulfilment.ts). */
  readonly shipments: readonly Shipment[];
  /** Stock given back after the sale other than by a whole cancellation (domain/fulfilment.ts). */
  readonly restocks: readonly Restock[];
  /** Returns of delivered units, oldest first (domain/returns.ts). */
  readonly returns: readonly Return[];
  /** The customer's note from checkout (CreateOrder); "" for none. Never changes. */
  readonly customerNote: string;
  /** Staff notes, oldest first; never shown to customers (domain/annotations.ts). */
  readonly staffNotes: readonly StaffNote[];
  /** Staff-only labels, sorted and unique. */
  readonly tags: readonly string[];
  /** Staff-only entries for other systems (an ERP id...), by key. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Increments on every mutation; the etag is derived from it. */
  readonly version: number;
  readonly createTime: Date;
  readonly updateTime: Date;
  readonly reservationId: string;
  readonly reservationState: ReservationState;
  readonly deleted: boolean;
}

/** Opaque etag (AIP-154): changes on every mutation, differs between orders. */
export function etagOf(order: Pick<Order, "id" | "version">): string {
  return createHash("sha256").update(`${order.id}/${order.version}`).digest("base64url").slice(0, 22);
}
