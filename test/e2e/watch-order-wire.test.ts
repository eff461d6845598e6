/**
 * WatchOrder's ends over the real servers, gRPC (grpc-js port) and Connect
 * JSON: the limit (RESOURCE_EXHAUSTED WATCH_LIMIT_REACHED), the lifetime
 * (UNAVAILABLE WATCH_LIFETIME_REACHED) and shutdown (UNAVAILABLE
 * SHUTTING_DOWN), each with its google.rpc.RetryInfo surviving the wire.
 */
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct, requestId } from "../integration/orders/harness.js";
import { startWatch, untilNoWatches, untilSeen, retryDelayMsOf } from "../integration/orders/watch-support.js";
import { permittedPrincipal } from "../support/auth.js";
import { clientsOver, WIRES } from "../support/clients.js";
import { reasonOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const LIFETIME_MS = 1500;

async function placeOrder(stack: TestStack) {
  const c = clientsOver(stack, "grpc", permittedPrincipal);
  const [productId, customerId] = [await newProduct(c, 10), await newCustomer(c)];
  return (await c.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] })).order!;
}

const endOf = async (w: ReturnType<typeof startWatch>) => {
  const err = await w.ended;
  if (!err) throw new Error("the stream should have failed");
  return { code: Code[err.code], reason: reasonOf(err), hasRetryInfo: retryDelayMsOf(err) !== undefined };
};

describe("WatchOrder over the wire", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ config: { watchMaxPerPrincipal: 1, watchMaxLifetimeMs: LIFETIME_MS } });
  });
  afterAll(() => stack?.close());

  it.each(WIRES)("over %s: past the cap RESOURCE_EXHAUSTED, at the lifetime UNAVAILABLE, each with RetryInfo", async (wire) => {
    const orders: Client<typeof OrderService> = clientsOver(stack, wire, permittedPrincipal).orders;
    const order = await placeOrder(stack);
    const first = startWatch(orders, order.id);
    await untilSeen([first], 1);
    expect(await endOf(startWatch(orders, order.id))).toEqual({ code: "ResourceExhausted", reason: "WATCH_LIMIT_REACHED", hasRetryInfo: true });
    expect(await endOf(first)).toEqual({ code: "Unavailable", reason: "WATCH_LIFETIME_REACHED", hasRetryInfo: true });
    expect(first.seen).toHaveLength(1);
    await untilNoWatches(stack.app.modules.orders!);
  });
});

describe("WatchOrder at shutdown", () => {
  it("every open watch ends UNAVAILABLE SHUTTING_DOWN with RetryInfo, over gRPC and Connect", async () => {
    const stack = await startTestStack();
    try {
      const order = await placeOrder(stack);
      const watches = WIRES.map((wire) => startWatch(clientsOver(stack, wire, permittedPrincipal).orders, order.id));
      await untilSeen(watches, 1);
      await stack.app.close();
      for (const w of watches) expect(await endOf(w)).toEqual({ code: "Unavailable", reason: "SHUTTING_DOWN", hasRetryInfo: true });
      expect(stack.app.modules.orders!.watches.stats().watches).toBe(0);
    } finally {
      await stack.database.dispose();
    }
  });
});
