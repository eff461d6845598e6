/**
 * Returns of delivered units. RETURN_TRANSITIONS is the one return table
 * (README "Returns", printed from it). Invariant, per order line: the units
 * in returns other than REJECTED ones never exceed the units delivered; every
 * change of returns happens under the order's row lock. A RECEIVED return
 * becomes a restock (its units back into stock, exactly once) and a refund
 * due, computed from the lines' unit prices as ordered.
 */
import { uuidV5 } from "../../kernel/uuid-v5.js";
import { unitsIn, type ShipmentLine } from "./fulfilment.js";
import type { Order } from "./order.js";

export const RETURN_STATUSES = ["REQUESTED", "APPROVED", "RECEIVED", "REJECTED"] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

export const RETURN_TRANSITIONS: Readonly<Record<ReturnStatus, readonly ReturnStatus[]>> = Object.freeze({
  REQUESTED: Object.freeze(["APPROVED", "REJECTED"] as const),
  APPROVED: Object.freeze(["RECEIVED", "REJECTED"] as const),
  RECEIVED: Object.freeze([] as const),
  REJECTED: Object.freeze([] as const),
});

export interface Return {
  readonly id: string;
  readonly requestId: string;
  readonly status: ReturnStatus;
  readonly lines: readonly ShipmentLine[];
  readonly reason: string;
  /** Set when RECEIVED: the lines' unit prices × units, in the order's currency. */
  readonly refundMinor: bigint | undefined;
  readonly createTime: Date;
  readonly updateTime: Date;
}

/** Namespace of return ids (a fixed random UUID). */
const RETURN_ID_NAMESPACE = "5d0e3b7a-2c61-4f8e-9a14-7b3c6e2d1f90";

/** UUIDv5 of (order id, request id): every repeat of a RequestReturn names the same return. */
export function returnIdFor(orderId: string, requestId: string): string {
  return uuidV5(RETURN_ID_NAMESPACE, `${orderId.toLowerCase()}\n${requestId}`);
}

export function canReturnTransition(from: ReturnStatus, to: ReturnStatus): boolean {
  return RETURN_TRANSITIONS[from].includes(to);
}

/** Units per line delivered and not in a return (other than REJECTED ones) yet. */
export function returnable(order: Pick<Order, "lines" | "shipments" | "returns">): number[] {
  const delivered = unitsIn(order.shipments, order.lines.length, ["DELIVERED"]);
  const returned = order.lines.map(() => 0);
  for (const r of order.returns) {
    if (r.status === "REJECTED") continue;
    for (const l of r.lines) returned[l.lineNo - 1] = (returned[l.lineNo - 1] ?? 0) + l.quantity;
  }
  return delivered.map((d, i) => d - returned[i]!);
}

/** When the order's last parcel was delivered; undefined while nothing is. */
export function lastDelivery(order: Pick<Order, "shipments">): Date | undefined {
  let last: Date | undefined;
  for (const s of order.shipments) if (s.deliverTime && (!last || s.deliverTime > last)) last = s.deliverTime;
  return last;
}

/** The refund of returned lines: unit price as ordered × units. */
export function refundOf(order: Pick<Order, "lines">, lines: readonly ShipmentLine[]): bigint {
  return lines.reduce((sum, l) => sum + order.lines[l.lineNo - 1]!.unitPrice.amountMinor * BigInt(l.quantity), 0n);
}

export function returnTableMarkdown(): string {
  const rows = RETURN_STATUSES.map((s) => `| ${s} | ${RETURN_TRANSITIONS[s].join(", ") || "— (final)"} |`);
  return ["| from | allowed next statuses |", "| --- | --- |", ...rows].join("\n");
}
