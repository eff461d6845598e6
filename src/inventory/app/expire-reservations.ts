import type { InventoryAppPorts } from "./ports.js";

/**
 * Expires every pending reservation due at `now` (default: the clock), batch
 * by batch; returns how many. `stop` ends it between batches (each batch is
 * committed on its own; the next sweep takes the rest).
 */
export type ExpireReservations = (now?: Date, stop?: AbortSignal) => Promise<number>;

export const EXPIRY_BATCH_SIZE = 200;

export function createExpireReservations(
  { reservations, now: clock, log }: Pick<InventoryAppPorts, "reservations" | "now" | "log">,
  batchSize = EXPIRY_BATCH_SIZE,
): ExpireReservations {
  return async (now = clock(), stop) => {
    let total = 0;
    while (!stop?.aborted) {
      const ids = await reservations.expireDue(now, batchSize);
      total += ids.length;
      if (ids.length > 0) log.info({ count: ids.length, reservationIds: ids.slice(0, 20) }, "reservations expired");
      if (ids.length < batchSize) break;
    }
    return total;
  };
}
