/**
 * What each scenario sends, and as whom. `varied` scenarios (Node generator)
 * pick a new request per call — random seeded orders, customers and
 * products, unique request ids for creates; `fixed` requests (h2load) are one
 * message encoded once, as gRPC frames and as Connect JSON.
 *
 * Callers: CreateOrder is sent by the customer it is for, GetOrder by the
 * order's owner, ListOrders by the customer listed — each with that
 * customer's bearer token; SearchOrders by staff (one staff token);
 * GetProduct (public) and Health go anonymous.
 */
import { create, toBinary, toJsonString, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { Health, HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { GetProductRequestSchema, InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import {
  FulfilmentStatus,
  GetOrderRequestSchema,
  ListOrdersRequestSchema,
  OrderService,
  OrderStatus,
  PaymentStatus,
  type SearchOrdersRequestSchema,
} from "../../gen/orders/v1/order_service_pb.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { customerId, orderId, orderOwner, productId } from "./ids.js";
import { FIRST_NUMBER, SEEDED_FULFILMENT_STATUSES, SEEDED_PAYMENT_STATUSES, SEEDED_STATUSES, SEEDED_TAGS, seededCreateTime } from "./seeded.js";

/**
 * The SearchOrders scenarios, one per filter, each a page of 10 (as
 * list-orders): the seeded orders' number (any one), a number without its last
 * two digits (a prefix of ~100 to ~1,100 numbers), a customer (id, or email
 * in a random letter case; the customers list-orders draws from), one of the
 * seeded statuses / payment statuses / fulfilment statuses / tags, and a
 * one-hour window of create times.
 */
export const SEARCH_SCENARIOS = [
  "search-number",
  "search-number-prefix",
  "search-customer",
  "search-email",
  "search-status",
  "search-payment-status",
  "search-fulfilment-status",
  "search-tag",
  "search-time-range",
] as const;
export type SearchScenario = (typeof SEARCH_SCENARIOS)[number];

export type ScenarioName = "noop" | "get-product" | "get-order" | "list-orders" | "create-order" | "hot-products" | "mixed" | SearchScenario;

/** The hot-products scenario's products (a flash sale): every order buys these two. */
export const HOT_PRODUCTS = [1, 2] as const;

/** The data the generators draw from; everything seeded has an index-derived id. */
export interface DataShape {
  readonly products: number;
  readonly customers: number;
  readonly orders: number;
  /** Customers 1..listCustomers own at least 10 orders each. */
  readonly listCustomers: number;
  /** Unique per bench run and worker: makes CreateOrder request ids unique. */
  readonly runTag: string;
}

/** What the load generators draw from: the data, and who may ask for it. */
export interface LoadData extends DataShape {
  /** Orders 1..firstBatch are the first seed batch (owners: ids.ts orderOwner). */
  readonly firstBatch: number;
  /** Customer i's bearer token at [i - 1], for customers 1..customers. */
  readonly tokens: readonly string[];
  /** A staff member's token: SearchOrders is for staff. */
  readonly staffToken: string;
}

/** The authorization header of a call made with `token`. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface Clients {
  readonly health: Client<typeof Health>;
  readonly orders: Client<typeof OrderService>;
  readonly inventory: Client<typeof InventoryService>;
}

export function createClients(transport: Transport): Clients {
  return {
    health: createClient(Health, transport),
    orders: createClient(OrderService, transport),
    inventory: createClient(InventoryService, transport),
  };
}

const int = (n: number) => 1 + Math.floor(Math.random() * n);

const ADDRESS = {
  recipientName: "Bench Customer",
  line1: "1 Bench Street",
  city: "Springfield",
  postalCode: "12345",
  countryCode: "US",
};

/** A CreateOrder request for customer no. `customer` (default random): two distinct random products, quantity 1-3 each. */
export function createOrderRequest(d: DataShape, seq: number, customer = int(d.customers)) {
  const p1 = int(d.products);
  const p2 = d.products > 1 ? 1 + ((p1 + int(d.products - 1) - 1) % d.products) : p1;
  const items = [{ productId: productId(p1), quantity: int(3) }];
  if (p2 !== p1) items.push({ productId: productId(p2), quantity: int(3) });
  return { customerId: customerId(customer), items, shippingAddress: ADDRESS, requestId: `${d.runTag}-${seq}` };
}

/** A CreateOrder of the hot-products scenario: the same two products in every order, 1–3 of each. */
export function hotOrderRequest(d: DataShape, seq: number, customer = int(d.customers)) {
  const items = HOT_PRODUCTS.slice(0, Math.min(HOT_PRODUCTS.length, d.products)).map((p) => ({ productId: productId(p), quantity: int(3) }));
  return { customerId: customerId(customer), items, shippingAddress: ADDRESS, requestId: `${d.runTag}-${seq}` };
}

type Call = (c: Clients, seq: number) => Promise<unknown>;

export function variedCall(name: ScenarioName, d: LoadData): Call {
  // Built once: per call the header is one ready object, copied into the request's Headers as any header would be.
  const asCustomer: CallOptions[] = d.tokens.map((t) => ({ headers: bearer(t) }));
  const by = (customer: number) => asCustomer[customer - 1];
  const getOrder: Call = (c) => {
    const i = int(d.orders);
    return c.orders.getOrder({ orderId: orderId(i) }, by(orderOwner(i, d.firstBatch, d.customers)));
  };
  const listOrders: Call = (c) => {
    const who = int(d.listCustomers);
    return c.orders.listOrders({ customerId: customerId(who), pageSize: 10 }, by(who));
  };
  const createOrder: Call = (c, seq) => {
    const who = int(d.customers);
    return c.orders.createOrder(createOrderRequest(d, seq, who), by(who));
  };
  switch (name) {
    case "noop":
      return (c) => c.health.check({ service: "" });
    case "get-product":
      return (c) => c.inventory.getProduct({ productId: productId(int(d.products)) });
    case "get-order":
      return getOrder;
    case "list-orders":
      return listOrders;
    case "create-order":
      return createOrder;
    case "hot-products":
      return (c, seq) => {
        const who = int(d.customers);
        return c.orders.createOrder(hotOrderRequest(d, seq, who), by(who));
      };
    case "mixed":
      // 80% GetOrder, 10% ListOrders by customer, 10% CreateOrder.
      return (c, seq) => {
        const r = Math.random();
        return r < 0.8 ? getOrder(c, seq) : r < 0.9 ? listOrders(c, seq) : createOrder(c, seq);
      };
    default: {
      const asStaff: CallOptions = { headers: bearer(d.staffToken) };
      const request = searchRequest(name, d);
      return (c) => c.orders.searchOrders({ ...request(), pageSize: 10 }, asStaff);
    }
  }
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)];
/** Each letter upper or lower case at random: the email is compared regardless of case. */
const anyCase = (s: string) => [...s].map((ch) => (Math.random() < 0.5 ? ch.toUpperCase() : ch)).join("");

/** A new search request for each call of `name` (page size aside). */
export function searchRequest(name: SearchScenario, d: DataShape): () => MessageInitShape<typeof SearchOrdersRequestSchema> {
  // Seeded order i has about number FIRST_NUMBER + i - 1 (a few orders made before the second seed batch shift the rest).
  const seededNumber = () => String(FIRST_NUMBER - 1 + int(d.orders));
  switch (name) {
    case "search-number":
      return () => ({ numberFilter: { case: "number", value: seededNumber() } });
    case "search-number-prefix":
      return () => ({ numberFilter: { case: "numberPrefix", value: seededNumber().slice(0, -2) } });
    case "search-customer":
      return () => ({ customerId: customerId(int(d.listCustomers)) });
    case "search-email":
      return () => ({ customerEmail: anyCase(`bench${int(d.listCustomers)}@example.com`) });
    case "search-status":
      return () => ({ statuses: [OrderStatus[pick(SEEDED_STATUSES) as keyof typeof OrderStatus]] });
    case "search-payment-status":
      return () => ({ paymentStatuses: [PaymentStatus[pick(SEEDED_PAYMENT_STATUSES)]] });
    case "search-fulfilment-status":
      return () => ({ fulfilmentStatuses: [FulfilmentStatus[pick(SEEDED_FULFILMENT_STATUSES) as keyof typeof FulfilmentStatus]] });
    case "search-tag":
      return () => ({ tag: pick(SEEDED_TAGS) });
    case "search-time-range":
      return () => {
        const start = seededCreateTime(int(d.orders));
        return { createTimeStart: timestampFromDate(start), createTimeEnd: timestampFromDate(new Date(start.getTime() + 3_600_000)) };
      };
  }
}

export interface FixedRequest {
  /** /package.Service/Method */
  readonly path: string;
  /** One gRPC length-prefixed message frame. */
  readonly grpcFrame: Buffer;
  /** The same message as Connect JSON. */
  readonly json: string;
  /** The authorization header's value; undefined: anonymous. */
  readonly authorization?: string;
}

function fixed<D extends DescMessage>(method: DescMethod, schema: D, init: object, token?: string): FixedRequest {
  const msg = create(schema, init as never);
  const bytes = toBinary(schema, msg);
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  const authorization = token === undefined ? undefined : bearer(token).authorization;
  return { path: `/${method.parent.typeName}/${method.name}`, grpcFrame: frame, json: toJsonString(schema, msg), authorization };
}

/** The one request h2load repeats (read-only scenarios only), sent as the same caller as the Node generator would. */
export function fixedRequest(name: ScenarioName, d: LoadData): FixedRequest {
  switch (name) {
    case "noop":
      return fixed(Health.method.check, HealthCheckRequestSchema, { service: "" });
    case "get-product":
      return fixed(InventoryService.method.getProduct, GetProductRequestSchema, { productId: productId(1) });
    case "get-order":
      return fixed(OrderService.method.getOrder, GetOrderRequestSchema, { orderId: orderId(1) }, d.tokens[orderOwner(1, d.firstBatch, d.customers) - 1]);
    case "list-orders":
      return fixed(OrderService.method.listOrders, ListOrdersRequestSchema, { customerId: customerId(1), pageSize: 10 }, d.tokens[0]);
    default:
      throw new Error(`${name} needs varied requests; h2load repeats one`);
  }
}
