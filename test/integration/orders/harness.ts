/**
 * The orders module with the REAL inventory and customers modules, built by
 * createApp as in production (one process, the in-process transport between
 * them) on one test database. Clients call through the app's in-process
 * transport, so every call passes the same wrapping as over the network.
 * Hooks let a test swap a dependency's implementation or transport (failure
 * injection).
 */
import type { Principal } from "../../../src/kernel/principal.js";
import { asPermitted, withPrincipal } from "../../support/auth.js";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import pino from "pino";
import { CustomerService, CustomerStatus } from "../../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import type { OrdersModule } from "../../../src/orders/module.js";
import type { TestDatabase } from "../../support/db.js";
import type { Config } from "../../../src/config.js";
import { startTestStack, type TestStack, type TestStackOptions } from "../../support/servers.js";

export interface HarnessOptions {
  database?: TestDatabase;
  reservationTtlSeconds?: number;
  defaultDeadlineMs?: number;
  /** Replace a dependency's raw implementation (slow it down, break it). Orders' own is left alone. */
  transformImpl?: (service: DescService, impl: object) => object;
  /** Replace the transport the orders module uses to reach inventory. */
  inventoryTransport?: Transport;
  /** Settings over the harness's own. */
  config?: Partial<Config>;
  /** Wrap the orders repository (count its reads). */
  wrapOrderRepository?: TestStackOptions["wrapOrderRepository"];
}

export interface OrdersHarness {
  readonly stack: TestStack;
  readonly database: TestDatabase;
  readonly orders: Client<typeof OrderService>;
  readonly inventory: Client<typeof InventoryService>;
  readonly customers: Client<typeof CustomerService>;
  readonly module: OrdersModule;
  /** Clients whose every call is made by `principal`. */
  as(principal: Principal): { orders: Client<typeof OrderService>; inventory: Client<typeof InventoryService>; customers: Client<typeof CustomerService> };
  /** Expires pending reservations past their TTL now. */
  sweepExpired(now?: Date): Promise<unknown>;
  close(): Promise<void>;
}

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export async function createOrdersHarness(opts: HarnessOptions = {}): Promise<OrdersHarness> {
  const transform = opts.transformImpl;
  const stack = await startTestStack({
    database: opts.database,
    config: {
      reservationTtlSeconds: opts.reservationTtlSeconds ?? 900,
      defaultDeadlineMs: opts.defaultDeadlineMs ?? 10_000,
      // Room for our own answer after a dependency call times out, even on a loaded CI box.
      deadlineMarginMs: 150,
      reconcileIntervalMs: 3_600_000,
      reservationSweepMs: 3_600_000,
      watchPollMs: 200,
      ...opts.config,
    },
    wrapOrderRepository: opts.wrapOrderRepository,
    transformImpl: transform && ((service, impl) => (service === OrderService ? impl : transform(service, impl))),
    dependencyTransport: opts.inventoryTransport && ((s) => (s === InventoryService ? opts.inventoryTransport : undefined)),
  });
  const { app } = stack;
  return {
    stack,
    database: stack.database,
    orders: createClient(OrderService, asPermitted(stack.transport)),
    inventory: createClient(InventoryService, asPermitted(stack.transport)),
    customers: createClient(CustomerService, asPermitted(stack.transport)),
    module: app.modules.orders!,
    as(principal) {
      const t = withPrincipal(stack.transport, principal);
      return { orders: createClient(OrderService, t), inventory: createClient(InventoryService, t), customers: createClient(CustomerService, t) };
    },
    sweepExpired: (now) => app.modules.inventory!.sweepExpired(now),
    close: () => stack.close(),
  };
}

let seq = 0;
const unique = () => `${process.pid}-${Date.now().toString(36)}-${seq++}`;

export async function newProduct(
  h: Pick<OrdersHarness, "inventory">,
  stock: number,
  price = 1000n,
  currency = "EUR",
): Promise<string> {
  const res = await h.inventory.createProduct({
    sku: `sku-${unique()}`,
    name: "Widget",
    unitPrice: { currencyCode: currency, amountMinor: price },
    initialStock: BigInt(stock),
  });
  return res.product!.id;
}

export async function newCustomer(h: Pick<OrdersHarness, "customers">, active = true): Promise<string> {
  const res = await h.customers.createCustomer({ email: `c-${unique()}@example.com`, displayName: "Test Customer" });
  const id = res.customer!.id;
  if (!active) await h.customers.updateCustomer({ customerId: id, status: CustomerStatus.SUSPENDED });
  return id;
}

export async function stockOf(h: Pick<OrdersHarness, "inventory">, productId: string) {
  const p = (await h.inventory.getProduct({ productId })).product!;
  return { onHand: Number(p.stockOnHand), reserved: Number(p.reserved), available: Number(p.available) };
}

export const requestId = () => `req-${unique()}`;
