/**
 * The order lifecycle. TRANSITIONS is the one transition table: the domain
 * decides with it, the tests enumerate it and the README table is printed
 * from it (`transitionTableMarkdown`).
 */
export const ORDER_STATUSES = ["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED", "CANCELLED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = Object.freeze({
  // Stored, stock not yet sold: only the sale confirms it (see transition.ts).
  PENDING: Object.freeze(["CONFIRMED", "CANCELLED"] as const),
  CONFIRMED: Object.freeze(["PROCESSING", "CANCELLED"] as const),
  PROCESSING: Object.freeze(["SHIPPED", "CANCELLED"] as const),
  SHIPPED: Object.freeze(["DELIVERED"] as const),
  DELIVERED: Object.freeze([] as const),
  CANCELLED: Object.freeze([] as const),
});

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Acknowledged: CreateOrder answered OK for it, so the system never takes it back. */
export function isAcknowledged(status: OrderStatus): boolean {
  return status !== "PENDING";
}

/** DELIVERED and CANCELLED: nothing can follow. */
export function isFinal(status: OrderStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Statuses in which the order's stock is still in the warehouse (it can be returned). */
export function holdsStock(status: OrderStatus): boolean {
  return canTransition(status, "CANCELLED");
}

export function isOrderStatus(value: string): value is OrderStatus {
  return (ORDER_STATUSES as readonly string[]).includes(value);
}

/** The table as Markdown, for the README. */
export function transitionTableMarkdown(): string {
  const rows = ORDER_STATUSES.map((s) => `| ${s} | ${TRANSITIONS[s].join(", ") || "— (final)"} |`);
  return ["| from | allowed next statuses |", "| --- | --- |", ...rows].join("\n");
}
