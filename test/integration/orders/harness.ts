/**
 * The orders module wired to the REAL inventory and customers modules
 * through in-memory router transports, on one test database. Every service
 * is wrapped with `wrapService`, as in production. Hooks let a test swap a
 * dependency's implementation or transport (failure injection).
 */
import type { DescService } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { createClient, createRouterTransport, type Client, type Transport } from "@connectrpc/connect";
import pino from "pino";
import { CustomerService, CustomerStatus } from "../../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { createCustomersModule } from "../../../src/customers/module.js";
import { createInventoryModule } from "../../../src/inventory/module.js";
import { createOrdersModule, type OrdersModule } from "../../../src/orders/module.js";
import { wrapService } from "../../../src/platform/handlers.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";

export interface HarnessOptions {
  database?: TestDatabase;
  reservationTtlSeconds?: number;
  defaultDeadlineMs?: number;
  /** Replace a dependency's raw implementation (slow it down, break it). */
  transformImpl?: (service: DescService, impl: object) => object;
  /** Replace the transport the orders module uses to reach inventory. */
  inventoryTransport?: Transport;
}

export interface OrdersHarness {
  readonly database: TestDatabase;
  readonly orders: Client<typeof OrderService>;
  readonly inventory: Client<typeof InventoryService>;
  readonly customers: Client<typeof CustomerService>;
  readonly module: OrdersModule;
  /** Expires pending reservations past their TTL now. */
  sweepExpired(now?: Date): Promise<unknown>;
  close(): Promise<void>;
}

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export async function createOrdersHarness(opts: HarnessOptions = {}): Promise<OrdersHarness> {
  const database = opts.database ?? (await createTestDatabase());
  const deps = { validator: createValidator(), logger };
  const transform = opts.transformImpl ?? ((_s: DescService, impl: object) => impl);
  const defaultDeadlineMs = opts.defaultDeadlineMs ?? 10_000;
  const inv = createInventoryModule({
    db: database.db,
    logger,
    reservationTtlSeconds: opts.reservationTtlSeconds ?? 900,
    sweepIntervalMs: 3_600_000,
    defaultDeadlineMs,
  });
  const cus = createCustomersModule({ db: database.db, logger, defaultDeadlineMs });
  const deps$ = createRouterTransport(({ service }) => {
    service(InventoryService, wrapService(InventoryService, transform(InventoryService, inv.impl) as never, deps).impl);
    service(CustomerService, wrapService(CustomerService, transform(CustomerService, cus.impl) as never, deps).impl);
  });
  const module = createOrdersModule({
    db: database.db,
    logger,
    inventory: createClient(InventoryService, opts.inventoryTransport ?? deps$),
    customers: createClient(CustomerService, deps$),
    defaultDeadlineMs,
    // Room for our own answer after a dependency call times out, even on a loaded CI box.
    deadlineMarginMs: 150,
    reconcileIntervalMs: 3_600_000,
    watchPollMs: 200,
  });
  const front = createRouterTransport(({ service }) => {
    service(OrderService, wrapService(OrderService, module.impl, deps).impl);
  });
  return {
    database,
    orders: createClient(OrderService, front),
    inventory: createClient(InventoryService, deps$),
    customers: createClient(CustomerService, deps$),
    module,
    sweepExpired: (now) => inv.sweepExpired(now),
    async close() {
      await module.stop();
      if (!opts.database) await database.dispose();
    },
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
