/** Every order use case, built from one set of ports: what rpc/ calls. */
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
  const settler = createReservationSettler(ports);
  const restocker = createRestocker({ ...ports, settler });
  const cancelOrder = createCancelOrder({ ...ports, settler });
  return {
    createOrder: createCreateOrder({ ...ports, settler }),
    getOrder: createGetOrder({ repo: ports.getOrderReads ?? ports.repo }),
    listOrderTimeline: createListOrderTimeline(ports),
    listOrders: createListOrders(ports),
    searchOrders: createSearchOrders(ports),
    updateShippingInfo: createUpdateShippingInfo(ports),
    updateOrderStatus: createUpdateOrderStatus({ ...ports, settler, cancelOrder }),
    reportPayment: createReportPayment(ports),
    ...createShipmentUseCases(ports),
    cancelOrder,
    cancelUnshipped: createCancelUnshipped({ ...ports, settler, restocker }),
    ...createReturnUseCases({ ...ports, restocker }),
    ...createAnnotationUseCases(ports),
    deleteOrder: createDeleteOrder({ ...ports, settler }),
    watchOrder: createWatchOrder(ports),
    /** The reconciler's pass (a background job, not an RPC): `(stop?)`. */
    reconcile: createReconcileReservations({ ...ports, settler, restocker }),
  };
}

export type OrderUseCases = ReturnType<typeof createOrderUseCases>;
