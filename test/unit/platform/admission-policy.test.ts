/** Which class a call waits in (policy.ts), read from the queue it lands in while the one slot is taken. */
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext } from "@connectrpc/connect";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { actorOf, type CallContext } from "../../../src/kernel/call-context.js";
import { ANONYMOUS, servicePrincipal, type Principal } from "../../../src/kernel/principal.js";
import { createAdmissionControl, NOT_GATED } from "../../../src/platform/admission/policy.js";
import { createTierCache } from "../../../src/platform/admission/tier-cache.js";
import { ASSERTED_PRINCIPAL } from "../../../src/platform/auth/authenticator.js";
import { customer, STAFF } from "../../support/auth.js";

const VIP = "00000000-0000-4000-8000-00000000000a";
const STD = "00000000-0000-4000-8000-00000000000b";

function setUp() {
  const lookups: string[] = [];
  const tiers = createTierCache({
    maxEntries: 100,
    ttlMs: 60_000,
    logger: pino({ level: "silent" }),
    lookup: async (id) => {
      lookups.push(id);
      return { tier: id === VIP ? "VIP" : "STANDARD", version: 1 };
    },
  });
  const admission = createAdmissionControl({ maxConcurrent: 1, maxQueue: 100, bulkPageSize: 100, tiers, ungatedServices: [Health.typeName] });
  admission.gate.tryEnter(); // the one slot is taken: every call below has to wait, in its class
  const abort = new AbortController();
  const call = (method: DescMethod, principal: Principal, req: object = {}, asserted = false) => {
    const ctx = createHandlerContext({
      service: method.parent,
      method,
      protocolName: "test",
      requestMethod: "POST",
      url: "http://localhost/",
      contextValues: asserted ? createContextValues().set(ASSERTED_PRINCIPAL, principal) : undefined,
    });
    const cx: CallContext = { deadline: Date.now() + 60_000, signal: abort.signal, principal, actor: actorOf(principal) };
    const entered = admission.forMethod(method)!.enter(req, cx, ctx);
    if (typeof entered !== "number") entered.catch(() => {}); // aborted at the end of each test
    return entered;
  };
  const queued = async () => {
    await new Promise((r) => setImmediate(r));
    return admission.gate.stats().queued;
  };
  return { admission, call, queued, lookups, done: () => abort.abort() };
}

describe("admission classes", () => {
  it("ranks staff and services first, then VIP, then STANDARD customers (tier looked up once)", async () => {
    const s = setUp();
    s.call(OrderService.method.getOrder, STAFF);
    s.call(OrderService.method.getOrder, servicePrincipal("warehouse"));
    s.call(OrderService.method.createOrder, customer(VIP));
    s.call(OrderService.method.createOrder, customer(VIP));
    s.call(OrderService.method.createOrder, customer(STD));
    expect(await s.queued()).toEqual([2, 2, 1, 0]);
    expect(s.lookups).toEqual([VIP, STD]);
    s.done();
  });

  it("ranks bulk reads last: a List by a customer, a List with a large page, anonymous callers", async () => {
    const s = setUp();
    s.call(OrderService.method.listOrders, customer(VIP), { pageSize: 10 });
    s.call(OrderService.method.listOrders, STAFF, { pageSize: 500 });
    s.call(InventoryService.method.getProduct, ANONYMOUS, {});
    s.call(OrderService.method.listOrders, STAFF, { pageSize: 0 }); // the default page (50) is not bulk
    s.call(InventoryService.method.listProducts, STAFF, { pageSize: 100 });
    expect(await s.queued()).toEqual([2, 0, 0, 3]);
    s.done();
  });

  it("never gates nested in-process calls of a co-hosted module, nor health", () => {
    const s = setUp();
    expect(s.call(InventoryService.method.reserveStock, servicePrincipal("orders"), {}, true)).toBe(NOT_GATED);
    expect(s.admission.forMethod(Health.method.check)).toBeUndefined();
    expect(s.admission.gate.stats().queued).toEqual([0, 0, 0, 0]);
    s.done();
  });
});
