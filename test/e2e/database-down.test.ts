/**
 * With its database unreachable the service keeps serving and says so: every
 * call that needs the database answers UNAVAILABLE (reason
 * DATABASE_UNAVAILABLE, retryable) over gRPC and Connect alike — not
 * INTERNAL, and with nothing of the driver's error in the message — while
 * health reports NOT_SERVING. Needs no Postgres: nothing listens on the port.
 */
import { bearer, permittedPrincipal } from "../support/auth.js";
import { setTimeout as sleep } from "node:timers/promises";
import { createServer, type AddressInfo } from "node:net";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { createDatabase } from "../../src/platform/db.js";
import { reasonOf, rpcFailure } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

/** A local port nothing listens on: bound once by us, then closed. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

let stack: TestStack;
beforeAll(async () => {
  const database = await createDatabase({ url: `postgres://postgres@127.0.0.1:${await deadPort()}/gone`, poolMax: 2 });
  stack = await startTestStack({ database: { ...database, dispose: () => database.close() } });
});
afterAll(async () => {
  await stack?.close();
  await stack?.database.dispose();
});

const transports: Record<string, () => Transport> = {
  grpc: () => createGrpcTransport({ baseUrl: stack.grpcUrl, interceptors: [bearer(permittedPrincipal)] }),
  "connect json": () => createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1", interceptors: [bearer(permittedPrincipal)] }),
};

describe.each(Object.keys(transports))("over %s, with the database down", (name) => {
  const ID = "11111111-2222-4333-8444-555555555555";
  it("answers UNAVAILABLE DATABASE_UNAVAILABLE for reads and writes of every service", async () => {
    const t = transports[name]!();
    const calls = [
      () => createClient(InventoryService, t).getProduct({ productId: ID }),
      () => createClient(CustomerService, t).getCustomer({ customerId: ID }),
      () => createClient(OrderService, t).getOrder({ orderId: ID }),
      () => createClient(OrderService, t).createOrder({ customerId: ID, requestId: "r-1", items: [{ productId: ID, quantity: 1 }] }),
    ];
    for (const call of calls) {
      const err = await rpcFailure(call());
      expect(err.code).toBe(Code.Unavailable);
      expect(reasonOf(err)).toBe("DATABASE_UNAVAILABLE");
      expect(err.rawMessage).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|select|insert/i);
    }
  });

  it("still validates input first: a bad request is INVALID_ARGUMENT, not UNAVAILABLE", async () => {
    const err = await rpcFailure(createClient(InventoryService, transports[name]!()).getProduct({ productId: "nope" }));
    expect(err.code).toBe(Code.InvalidArgument);
  });
});

it("reports NOT_SERVING through health", async () => {
  const res = await createClient(Health, transports.grpc!()).check({ service: "" });
  expect(res.status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
});

it("keeps failing fast while the database stays down, instead of holding calls until their deadline", async () => {
  // The driver retries a lost connection with a growing pause, and queries wait
  // for the next attempt; uncapped, that pause reached 20 s and calls ran into
  // their deadline (DEADLINE_EXCEEDED) from about the sixth failure on.
  const inventory = createClient(InventoryService, transports.grpc!());
  const codes: Code[] = [];
  for (let i = 0; i < 10; i++) {
    const err = await rpcFailure(inventory.getProduct({ productId: "11111111-2222-4333-8444-555555555555" }, { timeoutMs: 10_000 }));
    codes.push(err.code);
    await sleep(300);
  }
  expect(codes).toEqual(Array(10).fill(Code.Unavailable));
}, 120_000);
