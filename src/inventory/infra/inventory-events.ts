/**
 * Inventory's events (proto/inventory/v1/inventory_events.proto) written to
 * inventory.outbox in the transaction of the change that makes them, for the
 * relay to publish on the stream "inventory" (README "Events"):
 * - StockLow / StockReplenished when a change takes a product's available
 *   stock across STOCK_LOW_THRESHOLD (down / up). Each is written while the
 *   change holds the product's row lock, so a product's events are in commit
 *   order. The stock-hold statement, the hot path, decides the crossing
 *   itself in SQL (reservation-statements.ts); the transactions call
 *   `stockChanged` after each guarded update.
 * - ReservationExpired for each reservation the expiry sweep ends.
 *
 * `within` runs one transaction (or the hold statement) and wakes the relay
 * once it committed having written an event (`wrote`).
 */
import { activeTraceparent } from "../../platform/tracing.js";
import { reservationExpiredEvent, stockEvent, type ExpiredReservation, type StockAfter } from "../rpc/inventory-events.js";
import type { Tx } from "./rows.js";
import { outbox } from "./schema.js";

/** Which way `available` crossed `threshold` in a change of `delta` (after − before) that left it at `after`, if it did. */
export function stockCrossing(after: bigint, delta: bigint, threshold: bigint): "down" | "up" | undefined {
  if (threshold <= 0n || delta === 0n) return undefined;
  const before = after - delta;
  if (before >= threshold && after < threshold) return "down";
  if (before < threshold && after >= threshold) return "up";
  return undefined;
}

export interface InventoryEventWriter {
  /** In `tx`, after a guarded update left the product at `after`, its available stock changed by `delta`: the crossing's event. */
  stockChanged(tx: Tx, after: StockAfter, delta: bigint, now: Date): Promise<void>;
  /** In `tx`: one ReservationExpired per reservation the sweep expired. */
  reservationsExpired(tx: Tx, expired: readonly ExpiredReservation[], now: Date): Promise<void>;
  /** `n` events were written another way (the hold statement's own insert). */
  wrote(n: number): void;
}

export interface InventoryEvents {
  /** STOCK_LOW_THRESHOLD; 0: no stock events. */
  readonly threshold: bigint;
  /** Runs `work` (one transaction or statement) with a writer; after it resolves having written events, `onCommitted`. */
  within<T>(work: (w: InventoryEventWriter) => Promise<T>): Promise<T>;
}

export function createInventoryEvents(threshold: number, onCommitted: () => void = () => {}): InventoryEvents {
  const t = BigInt(threshold);
  return {
    threshold: t,
    async within(work) {
      let written = 0;
      const writer: InventoryEventWriter = {
        async stockChanged(tx, after, delta, now) {
          const direction = stockCrossing(after.stockOnHand - after.reserved, delta, t);
          if (!direction) return;
          const event = stockEvent(direction, after, t);
          await tx.insert(outbox).values({
            aggregateType: "product",
            aggregateId: after.productId,
            eventType: event.type,
            payload: event.payload,
            traceparent: activeTraceparent() ?? null,
            createTime: now,
          });
          written++;
        },
        async reservationsExpired(tx, expired, now) {
          if (expired.length === 0) return;
          const traceparent = activeTraceparent() ?? null;
          await tx.insert(outbox).values(
            expired.map((r) => {
              const event = reservationExpiredEvent(r);
              return { aggregateType: "reservation", aggregateId: r.id, eventType: event.type, payload: event.payload, traceparent, createTime: now };
            }),
          );
          written += expired.length;
        },
        wrote(n) {
          written += n;
        },
      };
      const result = await work(writer);
      if (written > 0) onCommitted();
      return result;
    },
  };
}
