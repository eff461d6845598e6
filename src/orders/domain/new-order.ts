/**
 * Taking an order: the deterministic ids that make racing duplicates
 * converge, the idempotency fingerprint, and building the aggregate from the
 * prices inventory captured.
 */
import { createHash } from "node:crypto";
import { uuidV5 } from "../../kernel/uuid-v5.js";
import { NEW_PAYMENT } from "./payment.js";
import { singleCurrency, sum, times, type Money } from "./money.js";
import type { Address, Order, OrderLine } from "./order.js";

export interface NewOrderItem {
  readonly productId: string;
  readonly variantId: string;
  readonly quantity: number;
}

export interface NewOrderRequest {
  readonly customerId: string;
  readonly requestId: string;
  readonly items: readonly NewOrderItem[];
  readonly shippingAddress: Address | undefined;
  /** The customer's note for the shop; absent or "" for none. */
  readonly customerNote?: string;
}

/** Namespace of order ids (a fixed random UUID). */
const ORDER_ID_NAMESPACE = "3b4f8c8e-1d0a-4c55-9a4e-6f2b7d9e0c11";

/** UUIDv5 (RFC 9562) of (customer_id, request_id): every duplicate of a request names the same order. */
export function orderIdFor(customerId: string, requestId: string): string {
  return uuidV5(ORDER_ID_NAMESPACE, `${customerId.toLowerCase()}\n${requestId}`);
}

/**
 * The reservation of an order. Attempt 0 is the normal case; a later attempt
 * is used only when an earlier one was released or expired without an order
 * (a retry after a failed attempt), and duplicates walk the same sequence.
 */
export function reservationIdFor(orderId: string, attempt: number): string {
  return attempt === 0 ? `order-${orderId}` : `order-${orderId}.${attempt}`;
}

/** The attempt number of a reservation id made by reservationIdFor. */
export function attemptOf(reservationId: string): number {
  const m = /\.(\d+)$/.exec(reservationId);
  return m ? Number(m[1]) : 0;
}

/**
 * Fingerprint of everything the client chose; a reused request_id must match
 * it. The customer note counts only when there is one, so the fingerprints
 * stored before notes existed (every request without one) stay valid.
 */
export function requestFingerprint(req: NewOrderRequest): string {
  const canonical = {
    c: req.customerId.toLowerCase(),
    i: req.items.map((i) => [i.productId.toLowerCase(), i.variantId, i.quantity]),
    a: req.shippingAddress ? addressTuple(req.shippingAddress) : null,
    ...(req.customerNote ? { n: req.customerNote } : {}),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("base64url");
}

/**
 * The fingerprint of the request that made `order`, from what the order kept
 * of it (customer, lines in request order, shipping address, customer note;
 * none of them ever changes): a retry is checked against it once the
 * idempotency record, which stored the fingerprint, was purged.
 */
export function orderFingerprint(order: Order): string {
  const { customerId, requestId, lines, shippingAddress, customerNote } = order;
  return requestFingerprint({ customerId, requestId, items: lines, shippingAddress, customerNote });
}

function addressTuple(a: Address): string[] {
  return [a.recipientName, a.line1, a.line2, a.city, a.region, a.postalCode, a.countryCode];
}

/** What to reserve: one line per product, repeated products summed, in first-seen order. */
export function reservationLines(items: readonly NewOrderItem[]): { productId: string; quantity: number }[] {
  const sums = new Map<string, number>();
  for (const i of items) {
    const key = i.productId.toLowerCase();
    sums.set(key, (sums.get(key) ?? 0) + i.quantity);
  }
  return [...sums].map(([productId, quantity]) => ({ productId, quantity }));
}

export interface BuildContext {
  readonly id: string;
  readonly reservationId: string;
  readonly at: Date;
  readonly actor: string;
}

/**
 * The PENDING order, priced from `prices` (product id → unit price): stored
 * before its stock is sold, confirmed once it is (transition.ts).
 */
export function buildOrder(req: NewOrderRequest, prices: ReadonlyMap<string, Money>, cx: BuildContext): Order {
  const priced = req.items.map((item) => {
    const price = prices.get(item.productId.toLowerCase());
    if (!price) throw new Error(`no price for product ${item.productId}`);
    return { item, price, subject: `products/${item.productId}` };
  });
  const currency = singleCurrency(priced);
  const lines: OrderLine[] = priced.map(({ item, price, subject }) => ({
    productId: item.productId.toLowerCase(),
    variantId: item.variantId,
    quantity: item.quantity,
    unitPrice: price,
    lineTotal: times(price, item.quantity, subject),
  }));
  return {
    id: cx.id,
    number: "", // the store assigns it
    customerId: req.customerId.toLowerCase(),
    requestId: req.requestId,
    status: "PENDING",
    lines,
    total: sum(currency, lines.map((l) => l.lineTotal)),
    shippingAddress: req.shippingAddress,
    shippingInfo: undefined,
    history: [{ from: undefined, to: "PENDING", reason: "", actor: cx.actor, at: cx.at }],
    payment: NEW_PAYMENT,
    shipments: [],
    restocks: [],
    returns: [],
    customerNote: req.customerNote ?? "",
    staffNotes: [],
    tags: [],
    metadata: {},
    version: 1,
    createTime: cx.at,
    updateTime: cx.at,
    reservationId: cx.reservationId,
    reservationState: "PENDING",
    deleted: false,
  };
}
