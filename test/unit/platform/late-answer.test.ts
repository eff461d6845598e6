/**
 * A call whose deadline passes before its implementation even starts (it
 * waited for authentication, a rate limit or an admission slot) is answered
 * DEADLINE_EXCEEDED — and the implementation's own failure, arriving later,
 * is still handled: it used to be an unhandled rejection, which ends a Node
 * 20 process (the overload bench took the service down this way, through a
 * nested ReserveStock whose caller's deadline had passed).
 */
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import { createDisabledAuthenticator, type Authenticator } from "../../../src/platform/auth/authenticator.js";
import type { RpcImpl } from "../../../src/platform/rpc/handlers.js";
import { createInProcessTransport } from "../../../src/platform/rpc/in-process-transport.js";
import { createServiceRegistry } from "../../../src/platform/rpc/service-registry.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on("unhandledRejection", onUnhandled);
afterEach(() => {
  unhandled.length = 0;
});

function client() {
  const disabled = createDisabledAuthenticator();
  // Authentication outlasts the caller's deadline.
  const slow: Authenticator = { authenticate: async (ctx) => (await sleep(30), disabled.authenticate(ctx)), principalOf: disabled.principalOf };
  const impl: RpcImpl<typeof Health> = {
    async check(req, cx) {
      await sleep(20);
      if (req.service === "signal") cx.signal.throwIfAborted();
      throw new Error("the implementation failed after the answer");
    },
    async *watch() {
      yield { status: Status.SERVING };
    },
  };
  const registry = createServiceRegistry({ validator: createValidator(), logger: pino({ level: "silent" }), defaultDeadlineMs: 5000, authenticator: slow });
  registry.register(Health, impl);
  registry.seal();
  return createClient(Health, createInProcessTransport(registry));
}

describe("a call whose deadline passed before its implementation ran", () => {
  for (const service of ["throw", "signal"]) {
    it(`answers DEADLINE_EXCEEDED and handles the implementation's later failure (${service})`, async () => {
      const err = await client()
        .check({ service }, { timeoutMs: 5 })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code).toBe(Code.DeadlineExceeded);
      await sleep(100); // the implementation fails meanwhile
      expect(unhandled).toEqual([]);
    });
  }
});
