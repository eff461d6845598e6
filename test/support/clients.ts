/**
 * Clients of a running test stack over the network, as a given principal:
 * gRPC on the grpc-js port, or Connect JSON on the HTTP port. `undefined`
 * means anonymous (no authorization header at all).
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import type { Principal } from "../../src/kernel/principal.js";
import { bearer } from "./auth.js";
import type { TestStack } from "./servers.js";

export const WIRES = ["grpc", "connect json"] as const;
export type Wire = (typeof WIRES)[number];

export function transportOf(stack: Pick<TestStack, "grpcUrl" | "httpUrl">, wire: Wire, as?: Principal | ((m: DescMethod) => Principal)): Transport {
  const interceptors = as ? [bearer(as)] : [];
  return wire === "grpc"
    ? createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors })
    : createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors });
}

export interface Clients {
  readonly orders: Client<typeof OrderService>;
  readonly inventory: Client<typeof InventoryService>;
  readonly customers: Client<typeof CustomerService>;
  readonly health: Client<typeof Health>;
}

export function clientsOf(transport: Transport): Clients {
  return {
    orders: createClient(OrderService, transport),
    inventory: createClient(InventoryService, transport),
    customers: createClient(CustomerService, transport),
    health: createClient(Health, transport),
  };
}

export const clientsOver = (stack: Pick<TestStack, "grpcUrl" | "httpUrl">, wire: Wire, as?: Principal | ((m: DescMethod) => Principal)) =>
  clientsOf(transportOf(stack, wire, as));
