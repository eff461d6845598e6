/**
 * Orders and inventory deployed apart (two stacks on one database, orders
 * reaching inventory over gRPC), and inventory dies mid-commit: CreateOrder
 * calls hang in CommitReservation, inventory is stopped, stays down past the
 * reservation TTL, and comes back on the same port. An OK must mean the
 * order stands: every OK-answered order is CONFIRMED for good (after the
 * reconciler has run), every other call failed UNAVAILABLE — never ABORTED —
 * and after recovery retries with the same request_id all end OK, with the
 * stock conserved.
 */
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService, OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { createFaults } from "../integration/orders/faults.js";
import { newCustomer, newProduct, requestId, stockOf } from "../integration/orders/harness.js";
import { bearer, permittedPrincipal } from "../support/auth.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { reasonOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";
import { ConnectError } from "@connectrpc/connect";

const STOCK = 100;
const faults = createFaults();
let database: TestDatabase;
let inventory: TestStack | undefined;
let orders: TestStack;

const startInventory = (grpcPort = 0) =>
  startTestStack({
    database,
    config: { services: ["inventory"], grpcPort, reservationTtlSeconds: 2, reservationSweepMs: 3_600_000 },
    transformImpl: faults.transformImpl,
  });
const clientOf = <S extends typeof OrderService | typeof InventoryService | typeof CustomerService>(service: S, url: string): Client<S> =>
  createClient(service, createGrpcTransport({ baseUrl: url, interceptors: [bearer(permittedPrincipal)] }));

beforeAll(async () => {
  database = await createTestDatabase();
  inventory = await startInventory();
  orders = await startTestStack({
    database,
    config: { services: ["orders", "customers"], inventoryAddr: inventory.grpcUrl, reconcileIntervalMs: 3_600_000, defaultDeadlineMs: 10_000 },
  });
});
afterAll(async () => {
  faults.clear();
  await orders?.close();
  await inventory?.close();
  await database?.dispose();
});

type Outcome = { ok: true; id: string } | { ok: false; code: string; reason: string };
const outcome = (call: Promise<{ order?: { id: string; status: OrderStatus } }>): Promise<Outcome> =>
  call.then(
    (r) => ({ ok: true as const, id: r.order!.id }),
    (err: unknown) => {
      const e = ConnectError.from(err);
      return { ok: false as const, code: Code[e.code], reason: reasonOf(e) };
    },
  );
const poll = async <T>(attempt: () => Promise<T | undefined>): Promise<T> => {
  for (let i = 0; i < 300; i++) {
    const v = await attempt().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not met in time");
};

it("never acknowledges an order it later takes back; every retry ends OK once inventory is back", async () => {
  const inv = clientOf(InventoryService, inventory!.grpcUrl);
  const c = { orders: clientOf(OrderService, orders.grpcUrl), customers: clientOf(CustomerService, orders.grpcUrl) };
  const [productId, customerId] = [await newProduct({ inventory: inv }, STOCK), await newCustomer(c)];
  const request = (quantity: number) => ({ customerId, requestId: requestId(), items: [{ productId, quantity }] });

  const before = [request(1), request(2)];
  const acknowledged = new Set<string>();
  for (const req of before) acknowledged.add((await c.orders.createOrder(req)).order!.id);

  // Inventory stops answering mid-commit, then dies with the calls in flight.
  faults.set("commitReservation", { kind: "hang" });
  const inFlight = [request(1), request(2), request(3), request(1)];
  const outcomes = inFlight.map((req) => outcome(c.orders.createOrder(req)));
  await poll(async () => (faults.entered("commitReservation") === inFlight.length ? true : undefined));
  const port = Number(new URL(inventory!.grpcUrl).port);
  await inventory!.close();
  inventory = undefined;
  faults.clear();
  const down = await outcome(c.orders.createOrder(request(1)));
  const answered = [...(await Promise.all(outcomes)), down];
  for (const o of answered) {
    if (o.ok) acknowledged.add(o.id);
    else expect(["UNAVAILABLE/ORDER_NOT_CONFIRMED", "UNAVAILABLE/INVENTORY_UNAVAILABLE"]).toContain(`${o.code.toUpperCase()}/${o.reason}`);
  }
  expect(down.ok).toBe(false);
  await orders.app.modules.orders!.reconcile(); // nothing to reach: settles nothing, takes nothing back

  // Down past the reservation TTL: the holds of the in-flight orders expire.
  await new Promise((r) => setTimeout(r, 2_500));
  inventory = await startInventory(port);
  await inventory.app.modules.inventory!.sweepExpired();
  for (let i = 0; i < 2; i++) await orders.app.modules.orders!.reconcile();

  for (const id of acknowledged) {
    expect((await c.orders.getOrder({ orderId: id })).order?.status, id).toBe(OrderStatus.CONFIRMED);
  }
  for (const req of inFlight) {
    const order = await poll(async () => (await c.orders.createOrder(req)).order);
    expect(order.status).toBe(OrderStatus.CONFIRMED);
  }
  await orders.app.modules.orders!.reconcile();
  await inventory.app.modules.inventory!.sweepExpired(new Date(Date.now() + 3_600_000));

  const all = (await c.orders.listOrders({ customerId })).orders;
  expect(all.map((o) => OrderStatus[o.status])).toEqual(all.map(() => "CONFIRMED"));
  expect(all).toHaveLength(before.length + inFlight.length);
  const sold = all.reduce((n, o) => n + o.lines.reduce((m, l) => m + l.quantity, 0), 0);
  const inv2 = clientOf(InventoryService, inventory.grpcUrl);
  expect(await stockOf({ inventory: inv2 }, productId)).toEqual({ onHand: STOCK - sold, reserved: 0, available: STOCK - sold });
});
