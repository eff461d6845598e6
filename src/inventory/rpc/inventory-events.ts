/**
 * The events inventory publishes (proto/inventory/v1/inventory_events.proto),
 * as its outbox stores them: the message's full name (the CloudEvents `type`)
 * and the message in protobuf JSON (the CloudEvents `data`). The stock-hold
 * statement builds the StockLow JSON in SQL (reservation-statements.ts);
 * a test keeps it equal to `stockEvent`'s.
 */
import { create, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReservationExpiredSchema, StockLowSchema, StockReplenishedSchema } from "../../../gen/inventory/v1/inventory_events_pb.js";

export interface EncodedEvent {
  /** "inventory.v1.StockLow", … */
  readonly type: string;
  readonly payload: JsonValue;
}

export const STOCK_LOW_TYPE = StockLowSchema.typeName;

/** A product's stock after a change that crossed the threshold (down: StockLow; up: StockReplenished). */
export interface StockAfter {
  readonly productId: string;
  readonly sku: string;
  readonly stockOnHand: bigint;
  readonly reserved: bigint;
}

export function stockEvent(direction: "down" | "up", p: StockAfter, threshold: bigint): EncodedEvent {
  const schema = direction === "down" ? StockLowSchema : StockReplenishedSchema;
  const message = create(schema, {
    productId: p.productId,
    sku: p.sku,
    available: p.stockOnHand - p.reserved,
    stockOnHand: p.stockOnHand,
    threshold,
  });
  return { type: schema.typeName, payload: toJson(schema, message) };
}

export interface ExpiredReservation {
  readonly owner: string;
  readonly id: string;
  readonly expireTime: Date;
  readonly lines: readonly { readonly productId: string; readonly quantity: number }[];
}

export function reservationExpiredEvent(r: ExpiredReservation): EncodedEvent {
  const message = create(ReservationExpiredSchema, {
    reservationId: r.id,
    owner: r.owner,
    lines: r.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
    expireTime: timestampFromDate(r.expireTime),
  });
  return { type: ReservationExpiredSchema.typeName, payload: toJson(ReservationExpiredSchema, message) };
}
