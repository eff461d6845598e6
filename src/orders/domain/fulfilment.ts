/**
 * Fulfilment in several shipments. A shipment holds units of the order's
 * lines; SHIPMENT_TRANSITIONS is its one transition table (README
 * "Shipments", printed from it). The order's fulfilment status follows from
 * its shipments (`fulfilmentStatusOf`), and so do its SHIPPED and DELIVERED
 * statuses: once every unit is shipped the order is SHIPPED, once every unit
 * is delivered, DELIVERED.
 *
 * Invariant, per order line: the units in shipments other than CANCELLED
 * ones never exceed the units ordered. Every change of shipments happens
 * under the order's row lock, so concurrent CreateShipments are checked one
 * after another.
 */
import { uuidV5 } from "../../kernel/uuid-v5.js";
import type { Order, ShippingInfo } from "./order.js";

export const SHIPMENT_STATUSES = ["PENDING", "SHIPPED", "DELIVERED", "CANCELLED"] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export const SHIPMENT_TRANSITIONS: Readonly<Record<ShipmentStatus, readonly ShipmentStatus[]>> = Object.freeze({
  PENDING: Object.freeze(["SHIPPED", "CANCELLED"] as const),
  SHIPPED: Object.freeze(["DELIVERED"] as const),
  DELIVERED: Object.freeze([] as const),
  CANCELLED: Object.freeze([] as const),
});

export const FULFILMENT_STATUSES = ["UNFULFILLED", "PARTIALLY_SHIPPED", "SHIPPED", "PARTIALLY_DELIVERED", "DELIVERED"] as const;
export type FulfilmentStatus = (typeof FULFILMENT_STATUSES)[number];

export interface ShipmentLine {
  /** 1-based position in the order's lines. */
  readonly lineNo: number;
  readonly quantity: number;
}

export interface Shipment {
  readonly id: string;
  readonly requestId: string;
  readonly status: ShipmentStatus;
  readonly lines: readonly ShipmentLine[];
  readonly shippingInfo: ShippingInfo | undefined;
  readonly createTime: Date;
  readonly shipTime: Date | undefined;
  readonly deliverTime: Date | undefined;
}

/** Namespaces of shipment ids (fixed random UUIDs): clients' parcels, and the one-shipment shortcut's. */
const SHIPMENT_ID_NAMESPACE = "9f1c2a44-6b7e-4d13-8c0f-2e5a7b3d9c61";
const SHORTCUT_SHIPMENT_ID_NAMESPACE = "c2b7e1d0-8a4f-4e36-9d52-1f6a0b3c7e84";

/** UUIDv5 of (order id, request id): every repeat of a CreateShipment names the same shipment. */
export function shipmentIdFor(orderId: string, requestId: string): string {
  return uuidV5(SHIPMENT_ID_NAMESPACE, `${orderId.toLowerCase()}\n${requestId}`);
}

/**
 * The id of the parcel UpdateOrderStatus SHIPPED (the shortcut) makes at the
 * order's `version`: in its own namespace, so no client's request id can name it.
 */
export function shortcutShipmentIdFor(orderId: string, version: number): string {
  return uuidV5(SHORTCUT_SHIPMENT_ID_NAMESPACE, `${orderId.toLowerCase()}\n${version}`);
}


export function canShipmentTransition(from: ShipmentStatus, to: ShipmentStatus): boolean {
  return SHIPMENT_TRANSITIONS[from].includes(to);
}

/**
 * Stock an order gives back to inventory after its sale, apart from a whole
 * cancellation (which releases the reservation): the unshipped rest of an
 * order cancelled once parcels had left (CANCELLED_REST), the units of a
 * received return (RETURN). Each is returned
 * exactly once (InventoryService.ReturnStock, idempotent by the restock's
 * id): PENDING until inventory confirmed, retried by the reconciler.
 */
export interface Restock {
  /** The return id inventory dedupes by; unique within the order. */
  readonly id: string;
  readonly kind: "CANCELLED_REST" | "RETURN";
  readonly lines: readonly ShipmentLine[];
  readonly state: "PENDING" | "DONE";
  readonly createTime: Date;
}

/** Units of each line cancelled after fulfilment started (index lineNo − 1). */
export function cancelledUnits(order: Pick<Order, "lines" | "restocks">): number[] {
  const units = order.lines.map(() => 0);
  for (const r of order.restocks) {
    if (r.kind !== "CANCELLED_REST") continue;
    for (const l of r.lines) units[l.lineNo - 1] = (units[l.lineNo - 1] ?? 0) + l.quantity;
  }
  return units;
}

/** Units ordered and not cancelled, per line (index lineNo − 1): what the shipments must carry. */
export const orderedUnits = (order: Pick<Order, "lines" | "restocks">, cancelled: readonly number[] = cancelledUnits(order)): number[] =>
  order.lines.map((l, i) => l.quantity - cancelled[i]!);

/** Units per order line (index lineNo − 1) in shipments whose status is one of `statuses`. */
export function unitsIn(shipments: readonly Shipment[], lineCount: number, statuses: readonly ShipmentStatus[]): number[] {
  const units = new Array<number>(lineCount).fill(0);
  for (const s of shipments) {
    if (!statuses.includes(s.status)) continue;
    for (const l of s.lines) units[l.lineNo - 1] = (units[l.lineNo - 1] ?? 0) + l.quantity;
  }
  return units;
}

/** Units per line not in any shipment (other than CANCELLED ones) yet. */
export function unassigned(ordered: readonly number[], shipments: readonly Shipment[]): number[] {
  const assigned = unitsIn(shipments, ordered.length, ["PENDING", "SHIPPED", "DELIVERED"]);
  return ordered.map((q, i) => q - assigned[i]!);
}

/** Where the order's units are: from the units in SHIPPED and DELIVERED shipments against the units ordered. */
export function fulfilmentStatusOf(ordered: readonly number[], shipments: readonly Shipment[]): FulfilmentStatus {
  const total = ordered.reduce((a, b) => a + b, 0);
  const delivered = unitsIn(shipments, ordered.length, ["DELIVERED"]).reduce((a, b) => a + b, 0);
  const shipped = unitsIn(shipments, ordered.length, ["SHIPPED", "DELIVERED"]).reduce((a, b) => a + b, 0);
  if (total > 0 && delivered >= total) return "DELIVERED";
  if (delivered > 0) return "PARTIALLY_DELIVERED";
  if (total > 0 && shipped >= total) return "SHIPPED";
  if (shipped > 0) return "PARTIALLY_SHIPPED";
  return "UNFULFILLED";
}

export function shipmentTableMarkdown(): string {
  const rows = SHIPMENT_STATUSES.map((s) => `| ${s} | ${SHIPMENT_TRANSITIONS[s].join(", ") || "— (final)"} |`);
  return ["| from | allowed next statuses |", "| --- | --- |", ...rows].join("\n");
}
