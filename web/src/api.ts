/**
 * Clients of the three services, generated from proto/ (gen/), over Connect
 * JSON to this page's own origin — the same RPCs gRPC callers use, so no
 * CORS is involved. Every call carries the session's bearer token, if any.
 */
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import type { Session } from "./session.js";

export interface Api {
  readonly orders: Client<typeof OrderService>;
  readonly inventory: Client<typeof InventoryService>;
  readonly customers: Client<typeof CustomerService>;
}

export function createApi(session: Session): Api {
  const bearer: Interceptor = (next) => async (req) => {
    const token = await session.token();
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: location.origin, interceptors: [bearer] });
  return {
    orders: createClient(OrderService, transport),
    inventory: createClient(InventoryService, transport),
    customers: createClient(CustomerService, transport),
  };
}
