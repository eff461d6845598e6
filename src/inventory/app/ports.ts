import type { ProductRepository, ReservationRepository } from "../domain/ports.js";

/** Where use cases record what they did (a pino Logger fits). */
export interface ActivityLog {
  info(fields: object, message: string): void;
}

/** What the inventory use cases need from the outside world. */
export interface InventoryAppPorts {
  readonly products: ProductRepository;
  readonly reservations: ReservationRepository;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly log: ActivityLog;
  /** TTL of a reservation whose request names none. */
  readonly defaultTtlMs: number;
}
