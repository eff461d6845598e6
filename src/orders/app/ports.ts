import type { Log } from "../../kernel/log.js";
import type { CustomerPort, InventoryPort, OrderEventLog, OrderRepository, OrderTimelineLog, OrderWatches } from "../domain/ports.js";
import type { SettleAction } from "./reconcile-reservations.js";

/**
 * What the order use cases need from the outside world. The interfaces the
 * adapters in infra/ implement (the repository, the other services'
 * clients, the watch hub, the logs) are declared in domain/ports.ts.
 */
export interface OrderAppPorts {
  readonly repo: OrderRepository;
  /** GetOrder's reads; may answer from a cache (infra/order-cache.ts). Default: `repo`. */
  readonly getOrderReads?: Pick<OrderRepository, "findById">;
  readonly inventory: InventoryPort;
  readonly customers: CustomerPort;
  /** The watch hub WatchOrder streams hang off. */
  readonly watches: OrderWatches;
  /** The order events' log (the outbox) a resumed WatchOrder reads. */
  readonly orderEvents: OrderEventLog;
  /** The orders' timelines ListOrderTimeline reads. */
  readonly timeline: OrderTimelineLog;
  readonly log: Log;
  /** Budget of settlement calls made outside a caller's deadline. */
  readonly settleBudgetMs: number;
  /** REQUIRE_CAPTURE_BEFORE_FULFILMENT: PROCESSING and SHIPPED need the whole total captured. */
  readonly requireCaptureBeforeFulfilment: boolean;
  /** RETURN_WINDOW_DAYS: days after the last delivery a customer may request a return. */
  readonly returnWindowDays: number;
  /** The longest a WatchOrder stream lives before the client must watch again. */
  readonly watchMaxLifetimeMs: number;
  /** For metrics: CreateOrder stored a new order, by its customer's tier and its currency. */
  readonly onOrderCreated?: (tier: string, currency: string) => void;
  /** For metrics: the reconciler settled an order. */
  readonly onOrderSettled?: (action: SettleAction) => void;
}
