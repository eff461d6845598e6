/**
 * Failure injection around CreateOrder: the order transaction failing after
 * the reservation, inventory unreachable, the customer service slower than
 * the caller's deadline. No order may exist without its stock, and no stock
 * may stay held for an order that does not exist.
 */
import { Code } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ReservationStatus } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { orderIdFor, reservationIdFor } from "../../../src/orders/domain/new-order.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";
import { rpcFailure } from "../../support/rpc-errors.js";
import { expectFailure } from "./rpc-assert.js";

const faults = createFaults();
let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness({ transformImpl: faults.transformImpl, reservationTtlSeconds: 60 });
  await h.database.db.execute(sql.raw(`
    create function orders.fail_injected() returns trigger language plpgsql as $$
    begin
      if new.request_id like 'boom-%' then raise exception 'injected failure'; end if;
      return new;
    end $$`));
  await h.database.db.execute(
    sql.raw(`create trigger fail_injected before insert on orders.orders for each row execute function orders.fail_injected()`),
  );
});
afterAll(() => h.close());
afterEach(() => faults.clear());

describe("CreateOrder under failure", () => {
  it("releases the reservation when the order transaction fails, and a retry then succeeds", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    const rid = `boom-${requestId()}`;
    const req = { customerId, requestId: rid, items: [{ productId, quantity: 4 }] };
    const err = await rpcFailure(h.orders.createOrder(req));
    expect(Code[err.code]).toBe("Internal");
    expect(err.message).not.toContain("injected");
    const reservationId = reservationIdFor(orderIdFor(customerId, rid), 0);
    const { reservation } = await h.inventory.getReservation({ reservationId });
    expect(ReservationStatus[reservation!.status]).toBe("RELEASED");
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    expect((await h.orders.listOrders({ customerId })).orders).toEqual([]);

    await h.database.db.execute(sql.raw(`drop trigger fail_injected on orders.orders`));
    const { order } = await h.orders.createOrder(req);
    expect(await stockOf(h, productId)).toEqual({ onHand: 6, reserved: 0, available: 6 });
    expect((await h.orders.createOrder(req)).order!.id).toBe(order!.id);
  });

  it("answers UNAVAILABLE and stores no order when inventory is unreachable", async () => {
    const down = await createOrdersHarness({
      database: h.database,
      inventoryTransport: createGrpcTransport({ baseUrl: "http://127.0.0.1:9" }),
    });
    try {
      const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
      const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] };
      await expectFailure(down.orders.createOrder(req), Code.Unavailable, "INVENTORY_UNAVAILABLE");
      faults.set("reserveStock", { kind: "unavailable" });
      await expectFailure(h.orders.createOrder(req), Code.Unavailable, "INVENTORY_UNAVAILABLE");
      expect((await h.orders.listOrders({ customerId })).orders).toEqual([]);
      expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    } finally {
      await down.close();
    }
  });

  it("answers DEADLINE_EXCEEDED when the customer service is slower than the deadline; nothing is left behind", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    faults.set("getCustomer", { kind: "delay", ms: 800 });
    const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 2 }] };
    await expectFailure(h.orders.createOrder(req, { timeoutMs: 400 }), Code.DeadlineExceeded, "CUSTOMERS_DEADLINE_EXCEEDED");
    await new Promise((r) => setTimeout(r, 900));
    faults.clear();
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    expect((await h.orders.listOrders({ customerId })).orders).toEqual([]);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });

  it("answers DEADLINE_EXCEEDED when inventory is slower than the deadline; the held stock expires", async () => {
    const [productId, customerId] = [await newProduct(h, 10), await newCustomer(h)];
    faults.set("reserveStock", { kind: "delay", ms: 700 });
    const req = { customerId, requestId: requestId(), items: [{ productId, quantity: 2 }] };
    await expectFailure(h.orders.createOrder(req, { timeoutMs: 400 }), Code.DeadlineExceeded, "INVENTORY_DEADLINE_EXCEEDED");
    await new Promise((r) => setTimeout(r, 800));
    await h.sweepExpired(new Date(Date.now() + 3_600_000));
    expect((await h.orders.listOrders({ customerId })).orders).toEqual([]);
    expect(await stockOf(h, productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });
});
