/** Row ↔ domain translation for the inventory tables. */
import type { Db } from "../../platform/db.js";
import { money } from "../domain/money.js";
import type { Product } from "../domain/product.js";
import type { Reservation, ReservationLine, ReservationStatus } from "../domain/reservation.js";
import type { ProductRow, ReservationLineRow, ReservationRow } from "./schema.js";

/** A transaction handle; it has the whole query API of Db. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export function productToRow(p: Product): ProductRow {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    description: p.description,
    unitPriceMinor: p.unitPrice.amountMinor,
    currency: p.unitPrice.currency,
    stockOnHand: p.stockOnHand,
    reserved: p.reserved,
    createTime: p.createTime,
    updateTime: p.updateTime,
  };
}

export function productFromRow(r: ProductRow): Product {
  return {
    id: r.id,
    sku: r.sku,
    name: r.name,
    description: r.description,
    unitPrice: money(r.currency, r.unitPriceMinor),
    stockOnHand: r.stockOnHand,
    reserved: r.reserved,
    createTime: r.createTime,
    updateTime: r.updateTime,
  };
}

/** returnedQuantity only when some units were returned (ReservationLine: absent means none). */
export function lineFromRow(r: ReservationLineRow): ReservationLine {
  const line = { productId: r.productId, quantity: r.quantity, unitPrice: money(r.currency, r.unitPriceMinor) };
  return r.returnedQuantity > 0 ? { ...line, returnedQuantity: r.returnedQuantity } : line;
}

export function reservationFromRow(r: ReservationRow, lines: readonly ReservationLine[]): Reservation {
  return {
    id: r.id,
    status: r.status as ReservationStatus,
    lines,
    expireTime: r.expiresAt,
    createTime: r.createTime,
    updateTime: r.updateTime,
  };
}
