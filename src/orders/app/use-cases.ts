/** All order use cases, built from their ports: what rpc/ calls. */
import { createAnnotationUseCases } from "./annotations.js";
import { createCancelOrder } from "./cancel-order.js";
import { createCancelUnshipped } from "./cancel-unshipped.js";
import { createCreateOrder } from "./create-order.js";
import { createDeleteOrder } from "./delete-order.js";
import { createGetOrder } from "./get-order.js";
import { createListOrderTimeline } from "./list-order-timeline.js";
import { createListOrders } from "./list-orders.js";
import type { OrderAppPorts } from "./ports.js";
import { createReconcileReservations } from "./reconcile-reservations.js";
import { createReportPayment } from "./report-payment.js";
import { createReservationSettler } from "./reservation-settler.js";
import { createRestocker } from "./restocks.js";
import { createReturnUseCases } from "./returns.js";
import { createSearchOrders } from "./search-orders.js";
import { createShipmentUseCases } from "./shipments.js";
import { createUpdateOrderStatus } from "./update-order-status.js";
import { createUpdateShippingInfo } from "./update-shipping-info.js";
import { createWatchOrder } from "./watch-order.js";

export function createOrderUseCases(ports: OrderAppPorts) {
  const { repo, log } = ports;
  const settler = createReservationSettler({ repo, inventory: ports.inventory, log, settleBudgetMs: ports.settleBudgetMs });
  const cancelOrder = createCancelOrder({ repo, settler });
  const restocker = createRestocker({ repo, inventory: ports.inventory, settler, log, settleBudgetMs: ports.settleBudgetMs });
  return {
    createOrder: createCreateOrder({ repo, inventory: ports.inventory, customers: ports.customers, settler, log, onCreated: ports.onOrderCreated }),
    getOrder: createGetOrder({ repo: ports.getOrderReads ?? repo }),
    listOrderTimeline: createListOrderTimeline({ timeline: ports.timeline }),
    listOrders: createListOrders({ repo }),
    searchOrders: createSearchOrders({ repo, customers: ports.customers }),
    updateShippingInfo: createUpdateShippingInfo({ repo }),
    updateOrderStatus: createUpdateOrderStatus({ repo, settler, cancelOrder, requireCapture: ports.requireCaptureBeforeFulfilment }),
    reportPayment: createReportPayment({ repo }),
    ...createShipmentUseCases({ repo, requireCapture: ports.requireCaptureBeforeFulfilment }),
    cancelOrder,
    cancelUnshipped: createCancelUnshipped({ repo, settler, restocker }),
    ...createReturnUseCases({ repo, restocker, returnWindowDays: ports.returnWindowDays }),
    ...createAnnotationUseCases({ repo }),
    deleteOrder: createDeleteOrder({ repo, settler }),
    watchOrder: createWatchOrder({ watches: ports.watches, events: ports.orderEvents, maxLifetimeMs: ports.watchMaxLifetimeMs }),
    reconcile: createReconcileReservations({ repo, settler, restocker, log, budgetMs: ports.settleBudgetMs, onSettled: ports.onOrderSettled }),
  };
}

export type OrderUseCases = ReturnType<typeof createOrderUseCases>;
