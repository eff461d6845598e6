/**
 * WatchOrder resumed (after_version) over the real servers, gRPC (grpc-js
 * port) and Connect JSON: the changes made meanwhile, then every live one,
 * each once and in order, with its version; after_version 0 (explicit
 * presence on both wires) starts at the creation; the caught-up message; the
 * resume errors with their reasons and details surviving the wire.
 */
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus, type OrderService, type WatchOrderResponse } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct, requestId } from "../integration/orders/harness.js";
import { untilNoWatches } from "../integration/orders/watch-support.js";
import { permittedPrincipal } from "../support/auth.js";
import { clientsOver, WIRES } from "../support/clients.js";
import { fieldViolationsOf, preconditionViolationsOf, reasonOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.close());

async function placeOrder(orders: Client<typeof OrderService>) {
  const c = clientsOver(stack, "grpc", permittedPrincipal);
  const [productId, customerId] = [await newProduct(c, 10), await newCustomer(c)];
  return (await orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
}

/** Runs the watch to its end; after the message of version v, awaits `at[v]` (reading nothing meanwhile). */
async function watchFrom(
  orders: Client<typeof OrderService>,
  orderId: string,
  afterVersion: number,
  at: Record<number, () => Promise<unknown>> = {},
) {
  const got: WatchOrderResponse[] = [];
  for await (const res of orders.watchOrder({ orderId, afterVersion })) {
    got.push(res);
    await at[res.version]?.();
  }
  return got;
}

const failureOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the stream should have failed");
};

describe.each(WIRES)("WatchOrder resumed over %s", (wire) => {
  let orders: Client<typeof OrderService>;
  beforeAll(() => {
    orders = clientsOver(stack, wire, permittedPrincipal).orders;
  });

  it("sends every change after after_version (0: from the creation), then every live change once, in order", async () => {
    const order = await placeOrder(orders);
    const id = order.id;
    const ship = (trackingNumber: string) => orders.updateShippingInfo({ orderId: id, shippingInfo: { carrier: "DHL", trackingNumber } });
    await ship("A");
    const got = await watchFrom(orders, id, 0, {
      3: async () => {
        for (const t of ["B", "C", "D"]) await ship(t);
        await orders.updateOrderStatus({ orderId: id, status: OrderStatus.PROCESSING });
        await new Promise((r) => setTimeout(r, 200));
      },
      7: () => orders.cancelOrder({ orderId: id }),
    });
    expect(got.map((r) => [r.version, OrderStatus[r.order!.status], r.order!.shippingInfo?.trackingNumber ?? ""])).toEqual([
      [1, "PENDING", ""],
      [2, "CONFIRMED", ""],
      [3, "CONFIRMED", "A"],
      [4, "CONFIRMED", "B"],
      [5, "CONFIRMED", "C"],
      [6, "CONFIRMED", "D"],
      [7, "PROCESSING", "D"],
      [8, "CANCELLED", "D"],
    ]);
    expect(got.every((r) => r.order!.id === id)).toBe(true);
  });

  it("at the current version: one caught-up message without an order, then the next change", async () => {
    const order = await placeOrder(orders);
    const got = await watchFrom(orders, order.id, 2, { 2: () => orders.cancelOrder({ orderId: order.id }) });
    expect(got.map((r) => [r.version, r.order && OrderStatus[r.order.status]])).toEqual([
      [2, undefined],
      [3, "CANCELLED"],
    ]);
  });

  it("a purged resume point fails FAILED_PRECONDITION RESUME_POINT_EXPIRED, one past the version INVALID_ARGUMENT RESUME_POINT_AHEAD", async () => {
    const order = await placeOrder(orders);
    await stack.database.db.execute(sql`delete from orders.outbox where aggregate_id = ${order.id} and version = 1`);
    const expired = await failureOf(watchFrom(orders, order.id, 0));
    expect([Code[expired.code], reasonOf(expired)]).toEqual(["FailedPrecondition", "RESUME_POINT_EXPIRED"]);
    expect(preconditionViolationsOf(expired).map((v) => [v.type, v.subject])).toEqual([["RESUME_POINT_EXPIRED", `orders/${order.id}`]]);
    const ahead = await failureOf(watchFrom(orders, order.id, 3));
    expect([Code[ahead.code], reasonOf(ahead)]).toEqual(["InvalidArgument", "RESUME_POINT_AHEAD"]);
    expect(fieldViolationsOf(ahead).map((f) => f.field)).toEqual(["after_version"]);
    await untilNoWatches(stack.app.modules.orders!);
  });
});
