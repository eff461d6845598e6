import type { Log } from "../../kernel/log.js";
import type { ProductRepository, ReservationRepository } from "../domain/ports.js";

/** What the inventory use cases need from the outside world. */
export interface InventoryAppPorts {
  readonly products: ProductRepository;
  readonly reservations: ReservationRepository;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  /** TTL of a reservation whose request names none. */
  readonly defaultTtlMs: number;
}
