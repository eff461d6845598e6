/** All order use cases, built from their ports: what rpc/ calls. */
import type { Logger } from "pino";
import type { CustomerPort, InventoryPort, OrderEventLog, OrderRepository, OrderTimelineLog, OrderWatches } from "../domain/ports.js";
import { createAnnotationUseCases } from "./annotations.js";
import { createCancelOrder } from "./cancel-order.js";
import { createCancelUnshipped } from "./cancel-unshipped.js";
import { createCreateOrder } from "./create-order.js";
import { createDeleteOrder } from "./delete-order.js";
import { createGetOrder } from "./get-order.js";
import { createListOrderTimeline } from "./list-order-timeline.js";
import { createListOrders } from "./list-orders.js";
import { createReconcileReservations, type SettleAction } from "./reconcile-reservations.js";
import { createReportPayment } from "./report-payment.js";
import { createReservationSettler } from "./reservation-settler.js";
import { createRestocker } from "./restocks.js";
import { createReturnUseCases } from "./returns.js";
import { createSearchOrders } from "./search-orders.js";
import { createShipmentUseCases } from "./shipments.js";
import { createUpdateOrderStatus } from "./update-order-status.js";
import { createUpdateShippingInfo } from "./update-shipping-info.js";
import { createWatchOrder } from "./watch-order.js";

export interface UseCaseDeps {
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
  readonly logger: Logger;
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

export function createOrderUseCases(deps: UseCaseDeps) {
  const { repo, logger } = deps;
  const settler = createReservationSettler({ repo, inventory: deps.inventory, logger, settleBudgetMs: deps.settleBudgetMs });
  const cancelOrder = createCancelOrder({ repo, settler });
  const restocker = createRestocker({ repo, inventory: deps.inventory, settler, logger, settleBudgetMs: deps.settleBudgetMs });
  return {
    createOrder: createCreateOrder({ repo, inventory: deps.inventory, customers: deps.customers, settler, logger, onCreated: deps.onOrderCreated }),
    getOrder: createGetOrder({ repo: deps.getOrderReads ?? repo }),
    listOrderTimeline: createListOrderTimeline({ timeline: deps.timeline }),
    listOrders: createListOrders({ repo }),
    searchOrders: createSearchOrders({ repo, customers: deps.customers }),
    updateShippingInfo: createUpdateShippingInfo({ repo }),
    updateOrderStatus: createUpdateOrderStatus({ repo, settler, cancelOrder, requireCapture: deps.requireCaptureBeforeFulfilment }),
    reportPayment: createReportPayment({ repo }),
    ...createShipmentUseCases({ repo, requireCapture: deps.requireCaptureBeforeFulfilment }),
    cancelOrder,
    cancelUnshipped: createCancelUnshipped({ repo, settler, restocker }),
    ...createReturnUseCases({ repo, restocker, returnWindowDays: deps.returnWindowDays }),
    ...createAnnotationUseCases({ repo }),
    deleteOrder: createDeleteOrder({ repo, settler }),
    watchOrder: createWatchOrder({ watches: deps.watches, events: deps.orderEvents, maxLifetimeMs: deps.watchMaxLifetimeMs }),
    reconcile: createReconcileReservations({ repo, settler, restocker, logger, budgetMs: deps.settleBudgetMs, onSettled: deps.onOrderSettled }),
  };
}

export type OrderUseCases = ReturnType<typeof createOrderUseCases>;
