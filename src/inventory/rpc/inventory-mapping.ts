/** Proto ↔ domain translation for the inventory. Proto types stop here. */
import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import { MoneySchema, type Money as PbMoney } from "../../../gen/common/v1/money_pb.js";
import {
  ProductSchema,
  ReservationLineSchema,
  ReservationSchema,
  ReservationStatus as PbStatus,
  type Product as PbProduct,
  type Reservation as PbReservation,
  type ReservationLineInput,
  type ReturnStockLine,
} from "../../../gen/inventory/v1/inventory_service_pb.js";
import { money, type Money } from "../domain/money.js";
import { available, type Product } from "../domain/product.js";
import type { LineRequest, Reservation, ReservationStatus } from "../domain/reservation.js";

const STATUS_TO_PB: Record<ReservationStatus, PbStatus> = {
  PENDING: PbStatus.PENDING,
  COMMITTED: PbStatus.COMMITTED,
  RELEASED: PbStatus.RELEASED,
  EXPIRED: PbStatus.EXPIRED,
};

export const moneyFromPb = (m: PbMoney): Money => money(m.currencyCode, m.amountMinor);

/** For fields validation has required: reaching here without one is a bug (INTERNAL). */
export function requiredMoneyFromPb(m: PbMoney | undefined): Money {
  if (!m) throw new Error("a required Money field is unset: was the request validated?");
  return moneyFromPb(m);
}

/** Unset → undefined. */
export const optionalMoneyFromPb = (m: PbMoney | undefined): Money | undefined => m && moneyFromPb(m);

export const moneyToPb = (m: Money): PbMoney =>
  create(MoneySchema, { currencyCode: m.currency, amountMinor: m.amountMinor });

export const ttlMsFromPb = (ttl: Duration | undefined): number | undefined => ttl && durationMs(ttl);

export const linesFromPb = (lines: readonly (ReservationLineInput | ReturnStockLine)[]): LineRequest[] =>
  lines.map((l) => ({ productId: l.productId, quantity: l.quantity }));

export function productToPb(p: Product): PbProduct {
  return create(ProductSchema, {
    id: p.id,
    sku: p.sku,
    name: p.name,
    description: p.description,
    unitPrice: moneyToPb(p.unitPrice),
    stockOnHand: p.stockOnHand,
    reserved: p.reserved,
    available: available(p),
    createTime: timestampFromDate(p.createTime),
    updateTime: timestampFromDate(p.updateTime),
  });
}

export function reservationToPb(r: Reservation): PbReservation {
  return create(ReservationSchema, {
    id: r.id,
    status: STATUS_TO_PB[r.status],
    lines: r.lines.map((l) =>
      create(ReservationLineSchema, {
        productId: l.productId,
        quantity: l.quantity,
        unitPrice: moneyToPb(l.unitPrice),
        returnedQuantity: l.returnedQuantity ?? 0,
      }),
    ),
    expireTime: timestampFromDate(r.expireTime),
    createTime: timestampFromDate(r.createTime),
    updateTime: timestampFromDate(r.updateTime),
  });
}
