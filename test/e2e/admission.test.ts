/**
 * Priority admission end to end, over gRPC: a gate of two slots, both held
 * by CreateOrders stuck behind a row lock on their product (on PGlite, the
 * open transaction holds the whole database), a burst of STANDARD orders
 * that fills the queue, then VIP orders. VIPs all succeed; STANDARD calls
 * beyond the queue are shed with UNAVAILABLE OVERLOADED and a retry hint,
 * never INTERNAL. The stuck CreateOrders' own in-process calls to inventory
 * and customers (service:orders) pass the full gate, so nothing deadlocks.
 */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService, CustomerTier } from "../../gen/customers/v1/customer_service_pb.js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { ADMIN, bearer, customer } from "../support/auth.js";
import { reasonOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const SLOTS = 2;
const QUEUE = 12;
const STANDARD_CALLS = 30;
const VIP_CALLS = 6;

let stack: TestStack;
let admin: { customers: Client<typeof CustomerService>; inventory: Client<typeof InventoryService> };
const ordersAs = (customerId: string) =>
  createClient(OrderService, createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(customer(customerId))] }));

beforeAll(async () => {
  stack = await startTestStack({
    config: {
      dbPoolMax: 4,
      admission: { maxConcurrent: SLOTS, maxQueue: QUEUE, tierCacheSize: 100, tierCacheTtlMs: 60_000, bulkPageSize: 100 },
    },
  });
  const t = createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(ADMIN)] });
  admin = { customers: createClient(CustomerService, t), inventory: createClient(InventoryService, t) };
});
afterAll(() => stack?.close());

const stats = () => stack.app.admission!.gate.stats();
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stats())}`);
}

/** Holds a lock on the product's row (and on PGlite the database) until `release` is called. */
function lockProduct(productId: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = stack.database.db.transaction(async (tx) => {
    await tx.execute(sql`select id from inventory.products where id = ${productId} for update`);
    locked();
    await released;
  });
  return { isLocked, release, done };
}

type Outcome = { ok: true } | { ok: false; err: ConnectError };
const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    () => ({ ok: true as const }),
    (e: unknown) => ({ ok: false as const, err: ConnectError.from(e) }),
  );

describe("priority admission under a burst", () => {
  it("serves every VIP order and sheds STANDARD ones with OVERLOADED and a retry hint; nested calls do not deadlock", async () => {
    const { product } = await admin.inventory.createProduct({
      sku: "ADM-1",
      name: "Admission widget",
      unitPrice: { currencyCode: "USD", amountMinor: 100n },
      initialStock: 1000n,
    });
    const std = (await admin.customers.createCustomer({ email: "std@example.com", displayName: "Std" })).customer!.id;
    const vip = (await admin.customers.createCustomer({ email: "vip@example.com", displayName: "Vip", tier: CustomerTier.VIP })).customer!.id;
    const order = (customerId: string, n: number) => ({
      customerId,
      requestId: `adm-${customerId.slice(0, 8)}-${n}`,
      items: [{ productId: product!.id, quantity: 1 }],
    });
    const stdOrders = ordersAs(std);
    const vipOrders = ordersAs(vip);
    await stdOrders.createOrder(order(std, -1)); // warm: token cached, connection up

    const lock = lockProduct(product!.id);
    await lock.isLocked;
    const standard = Array.from({ length: STANDARD_CALLS }, (_, i) => settle(stdOrders.createOrder(order(std, i), { timeoutMs: 30_000 })));
    // Two stuck in the database, a full queue, the rest refused on arrival.
    await until("the STANDARD burst to fill the gate", () => stats().inFlight === SLOTS && stats().queued[2] === QUEUE);
    await until("the overflow to be shed", () => stats().shed[2] === STANDARD_CALLS - SLOTS - QUEUE);
    const vips = Array.from({ length: VIP_CALLS }, (_, i) => settle(vipOrders.createOrder(order(vip, i), { timeoutMs: 30_000 })));
    // Each VIP takes the place of the newest STANDARD waiter.
    await until("the VIPs to queue", () => stats().queued[1] === VIP_CALLS);
    expect(stats().queued[2]).toBe(QUEUE - VIP_CALLS);
    lock.release();
    await lock.done;

    const vipOutcomes = await Promise.all(vips);
    expect(vipOutcomes.filter((o) => !o.ok)).toEqual([]);
    const stdOutcomes = await Promise.all(standard);
    const failed = stdOutcomes.flatMap((o) => (o.ok ? [] : [o.err]));
    expect(stdOutcomes.filter((o) => o.ok)).toHaveLength(SLOTS + QUEUE - VIP_CALLS);
    expect(failed).toHaveLength(STANDARD_CALLS - SLOTS - QUEUE + VIP_CALLS);
    for (const err of failed) {
      expect(err.code).toBe(Code.Unavailable);
      expect(reasonOf(err)).toBe("OVERLOADED");
      expect(err.findDetails(RetryInfoSchema)).toHaveLength(1);
      expect(Number(err.metadata.get("grpc-retry-pushback-ms"))).toBeGreaterThan(0);
    }
    expect(stats()).toMatchObject({ inFlight: 0, queued: [0, 0, 0, 0] });
    // Nothing leaked: the gate serves again at once.
    await expect(vipOrders.createOrder(order(vip, 100))).resolves.toMatchObject({ order: { customerId: vip } });
  });
});
