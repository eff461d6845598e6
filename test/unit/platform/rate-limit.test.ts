/**
 * Rate limits without a network: which class each served method is in
 * (written out, so a new method must be classed on purpose), whose bucket a
 * call counts against, the settings, and the in-memory limiter's verdicts —
 * including many calls racing for the last points of a budget.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { ConfigError, loadConfig, type RateLimitConfig } from "../../../src/config.js";
import { DomainError } from "../../../src/kernel/errors.js";
import { ANONYMOUS, servicePrincipal, type Principal } from "../../../src/kernel/principal.js";
import { createLogger } from "../../../src/platform/logger.js";
import { createRateLimiter, limitKeyOf, methodClassOf, RETRY_STEP_MS, TARPIT_AFTER } from "../../../src/platform/rate-limit.js";
import { domainToConnectError } from "../../../src/platform/rpc/rpc-errors.js";

const CLASSES: Record<string, string | undefined> = {
  "customers.v1.CustomerService/CreateCustomer": "write",
  "customers.v1.CustomerService/GetCustomer": "read",
  "customers.v1.CustomerService/ListCustomers": "read",
  "customers.v1.CustomerService/UpdateCustomer": "write",
  "inventory.v1.InventoryService/CreateProduct": "write",
  "inventory.v1.InventoryService/GetProduct": "read",
  "inventory.v1.InventoryService/ListProducts": "read",
  "inventory.v1.InventoryService/UpdateProduct": "write",
  "inventory.v1.InventoryService/SetStock": "write",
  "inventory.v1.InventoryService/AdjustStock": "write",
  "inventory.v1.InventoryService/ReserveStock": "write",
  "inventory.v1.InventoryService/CommitReservation": "write",
  "inventory.v1.InventoryService/ReturnStock": "write",
  "inventory.v1.InventoryService/ReleaseReservation": "write",
  "inventory.v1.InventoryService/GetReservation": "read",
  "orders.v1.OrderService/CreateOrder": "write",
  "orders.v1.OrderService/GetOrder": "read",
  "orders.v1.OrderService/ListOrderTimeline": "read",
  "orders.v1.OrderService/ListOrders": "read",
  "orders.v1.OrderService/SearchOrders": "read",
  "orders.v1.OrderService/UpdateShippingInfo": "write",
  "orders.v1.OrderService/UpdateOrderStatus": "write",
  "orders.v1.OrderService/CancelOrder": "write",
  "orders.v1.OrderService/ReportPayment": "write",
  "orders.v1.OrderService/CreateShipment": "write",
  "orders.v1.OrderService/CancelUnshipped": "write",
  "orders.v1.OrderService/RequestReturn": "write",
  "orders.v1.OrderService/UpdateReturnStatus": "write",
  "orders.v1.OrderService/AddOrderNote": "write",
  "orders.v1.OrderService/UpdateOrderTags": "write",
  "orders.v1.OrderService/UpdateOrderMetadata": "write",
  "orders.v1.OrderService/UpdateShipmentStatus": "write",
  "orders.v1.OrderService/DeleteOrder": "write",
  "orders.v1.OrderService/WatchOrder": "watch",
  "grpc.health.v1.Health/Check": undefined,
  "grpc.health.v1.Health/Watch": undefined,
  "grpc.health.v1.Health/List": undefined,
};

const SERVED = [CustomerService, InventoryService, OrderService, Health];
const alice: Principal = { role: "customer", id: "0b7c1e2a-8f3d-4c5b-9a6e-1d2f3a4b5c6d" };
const bob: Principal = { role: "customer", id: "1c8d2f3b-9a4e-4d6c-8b7f-2e3a4b5c6d7e" };
const quiet = createLogger("silent");

/** Limits off but those given; the tarpit off unless given ("the tarpit" below). */
function limits(overrides: Partial<RateLimitConfig> = {}): RateLimitConfig {
  return { ...loadConfig({}).rateLimit, windowSeconds: 60, readPerSec: 0, writePerSec: 0, watchPerSec: 0, anonymousPerSec: 0, tarpitMaxMs: 0, ...overrides };
}

/** Runs one call's check: "ok", or the refusal's reason and retry delay. */
async function verdict(check: ReturnType<ReturnType<typeof createRateLimiter>["forMethod"]>, p: Principal) {
  try {
    await check?.(p);
    return "ok";
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return `${e.kind} ${e.reason}`;
  }
}

describe("method classes", () => {
  it.each(SERVED.flatMap((s) => s.methods.map((m) => [`${s.typeName}/${m.name}`, m] as const)))("%s", (name, method) => {
    expect(name in CLASSES, `${name} is served but not classed in this test`).toBe(true);
    expect(methodClassOf(method)).toBe(CLASSES[name]);
  });
});

describe("buckets", () => {
  it("keys a principal by role and id, and every anonymous caller alike", () => {
    expect(limitKeyOf(alice)).toBe(`customer:${alice.id}`);
    expect(limitKeyOf({ role: "staff", id: "ops@example.com" })).toBe("staff:ops@example.com");
    expect(limitKeyOf(ANONYMOUS)).toBe("anonymous");
  });

  it("has nothing to check for unlimited methods, exempt roles, or with RATE_LIMITS=off", () => {
    const rl = createRateLimiter(limits({ readPerSec: 1 }), { logger: quiet });
    expect(rl.forMethod(Health.method.check)).toBeUndefined();
    expect(rl.forMethod(OrderService.method.createOrder)).toBeUndefined(); // write: 0 = unlimited
    const read = rl.forMethod(OrderService.method.getOrder)!;
    expect(read(servicePrincipal("orders"))).toBeUndefined();
    expect(read({ role: "admin", id: "root" })).toBeUndefined();
    expect(read(alice)).toBeInstanceOf(Promise);
    const off = createRateLimiter(limits({ readPerSec: 1, enabled: false }), { logger: quiet });
    expect(off.forMethod(OrderService.method.getOrder)).toBeUndefined();
  });
});

describe("the in-memory limiter", () => {
  it("refuses the call after the budget with RESOURCE_EXHAUSTED RATE_LIMITED and when to retry; others are unaffected", async () => {
    const rl = createRateLimiter(limits({ readPerSec: 1, windowSeconds: 3 }), { logger: quiet });
    const read = rl.forMethod(OrderService.method.getOrder);
    for (let i = 0; i < 3; i++) expect(await verdict(read, alice)).toBe("ok");
    const err = await read!(alice)!.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    const wire = domainToConnectError(err as DomainError);
    expect(wire.code).toBe(Code.ResourceExhausted);
    const delay = wire.findDetails(RetryInfoSchema)[0]?.retryDelay;
    const ms = Number(delay?.seconds ?? 0n) * 1000 + (delay?.nanos ?? 0) / 1e6;
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(3000);
    expect(wire.metadata.get("retry-after")).toMatch(/^[1-3]$/);
    expect(await verdict(read, bob)).toBe("ok");
    // Another class has its own budget.
    const rl2 = createRateLimiter(limits({ readPerSec: 1, writePerSec: 1, windowSeconds: 1 }), { logger: quiet });
    expect(await verdict(rl2.forMethod(OrderService.method.getOrder), alice)).toBe("ok");
    expect(await verdict(rl2.forMethod(OrderService.method.getOrder), alice)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
    expect(await verdict(rl2.forMethod(OrderService.method.cancelOrder), alice)).toBe("ok");
  });

  it("lets exactly the budget through when many calls race for it", async () => {
    const rl = createRateLimiter(limits({ writePerSec: 5, windowSeconds: 2 }), { logger: quiet });
    const write = rl.forMethod(OrderService.method.createOrder);
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => verdict(write, alice)));
    expect(verdicts.filter((v) => v === "ok")).toHaveLength(10);
    expect(verdicts.filter((v) => v === "RESOURCE_EXHAUSTED RATE_LIMITED")).toHaveLength(190);
  });

  it("counts every anonymous caller against one shared bucket of its own size", async () => {
    const rl = createRateLimiter(limits({ readPerSec: 100, anonymousPerSec: 1, windowSeconds: 2 }), { logger: quiet });
    const read = rl.forMethod(InventoryService.method.getProduct);
    expect(await verdict(read, ANONYMOUS)).toBe("ok");
    expect(await verdict(read, ANONYMOUS)).toBe("ok");
    expect(await verdict(read, ANONYMOUS)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
    expect(await verdict(rl.forMethod(InventoryService.method.listProducts), ANONYMOUS)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
    expect(await verdict(read, alice)).toBe("ok");
  });

  it("rounds the retry hint up to a 100 ms step and answers refusals within a step with one shared error", async () => {
    const rl = createRateLimiter(limits({ readPerSec: 1, windowSeconds: 5 }), { logger: quiet });
    const read = rl.forMethod(OrderService.method.getOrder)!;
    for (let i = 0; i < 5; i++) await read(alice);
    const refusals = (await Promise.all(Array.from({ length: 50 }, () => read(alice)!.catch((e: unknown) => e)))) as DomainError[];
    for (const e of refusals) {
      expect(e).toBeInstanceOf(DomainError);
      expect(e.reason).toBe("RATE_LIMITED");
      const ms = e.options.retryAfterMs!;
      expect(ms % RETRY_STEP_MS).toBe(0);
      expect(ms).toBeGreaterThanOrEqual(RETRY_STEP_MS);
      expect(ms).toBeLessThanOrEqual(5000);
      expect(e.message).toContain(`retry after ${ms} ms`);
    }
    // 50 refusals in well under a step: at most two distinct answers (a step boundary may fall between), each one object.
    const distinct = new Set(refusals);
    expect(distinct.size).toBeLessThanOrEqual(2);
    expect(new Set(refusals.map((e) => e.options.retryAfterMs)).size).toBe(distinct.size);
    // The wire error is built once per shared answer.
    expect(domainToConnectError(refusals[0])).toBe(domainToConnectError(refusals[0]));
    // Another caller's refusal is its own count, but the same answer when the step is the same.
    for (let i = 0; i < 5; i++) await read(bob);
    const bobs = (await read(bob)!.catch((e: unknown) => e)) as DomainError;
    expect(bobs.reason).toBe("RATE_LIMITED");
  });

  it("says in the message and ErrorInfo metadata which limit was reached", async () => {
    const rl = createRateLimiter(limits({ watchPerSec: 1, windowSeconds: 1 }), { logger: quiet });
    const watch = rl.forMethod(OrderService.method.watchOrder)!;
    await watch(alice);
    const err = (await watch(alice)!.catch((e: unknown) => e)) as DomainError;
    expect(err.message).toMatch(/^too many watch calls: at most 1 every 1 s for each caller; retry after \d+ ms$/);
    expect(err.options.metadata).toEqual({ methodClass: "watch", limit: "1", windowSeconds: "1" });
    expect(ConnectError.from(domainToConnectError(err)).code).toBe(Code.ResourceExhausted);
  });
});

describe("the tarpit", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The check's outcome once every timer due by now has run: "pending" while the tarpit holds it. */
  async function settled(p: Promise<void> | undefined): Promise<{ state: "pending" | "ok" | "refused"; error?: DomainError }> {
    let out: { state: "pending" | "ok" | "refused"; error?: DomainError } = { state: "pending" };
    void p?.then(
      () => (out = { state: "ok" }),
      (e: unknown) => (out = { state: "refused", error: e as DomainError }),
    );
    await vi.advanceTimersByTimeAsync(0);
    return p === undefined ? { state: "ok" } : out;
  }

  /** Spends alice's read budget (1 call in a 60 s window), then refuses her once: the start of her wait. */
  async function spent(overrides: Partial<RateLimitConfig> = {}) {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const rl = createRateLimiter(limits({ readPerSec: 1, windowSeconds: 1, tarpitMaxMs: 500, ...overrides }), { logger: quiet });
    const read = rl.forMethod(OrderService.method.getOrder)!;
    expect((await settled(read(alice))).state).toBe("ok");
    expect((await settled(read(alice))).state).toBe("refused");
    return { rl, read };
  }

  it(`answers a burst of ${TARPIT_AFTER} more refusals within one wait at once, then holds each further one back for the rest of the wait, at most RATE_LIMIT_TARPIT_MAX_MS`, async () => {
    const { rl, read } = await spent();
    for (let i = 0; i < TARPIT_AFTER; i++) expect((await settled(read(alice))).state).toBe("refused");
    expect(rl.tarpitted().read).toBe(0);
    const held = read(alice);
    expect((await settled(held)).state).toBe("pending");
    expect(rl.tarpitted().read).toBe(1);
    // Others are not slowed by alice's tarpit.
    expect((await settled(read(bob))).state).toBe("ok");
    await vi.advanceTimersByTimeAsync(499);
    expect((await settled(held)).state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    const { state, error } = await settled(held);
    expect(state).toBe("refused");
    expect(error?.reason).toBe("RATE_LIMITED");
    // The hint is what is left of the wait when the answer goes out (the window is 1 s; 500 ms were held).
    expect(error!.options.retryAfterMs).toBeLessThanOrEqual(500);
    expect(error!.options.retryAfterMs).toBeGreaterThanOrEqual(RETRY_STEP_MS);
    expect(rl.refused().read).toBe(TARPIT_AFTER + 2);
  });

  it("never holds a refusal past the call's deadline (less a margin), and answers at once when there is no time left", async () => {
    const { read } = await spent();
    for (let i = 0; i < TARPIT_AFTER; i++) await settled(read(alice));
    const held = read(alice, { timeoutMs: () => 100 });
    await vi.advanceTimersByTimeAsync(79);
    expect((await settled(held)).state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect((await settled(held)).state).toBe("refused");
    expect((await settled(read(alice, { timeoutMs: () => 10 }))).state).toBe("refused");
  });

  it("does not slow a caller that waits as told, the shared anonymous bucket, or anyone with RATE_LIMIT_TARPIT_MAX_MS=0", async () => {
    const { rl, read } = await spent();
    // Alice waits out her hint (the window, here 1 s of real time): her next refusal starts a new wait.
    vi.useRealTimers();
    await new Promise((r) => setTimeout(r, 1100));
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    expect((await settled(read(alice))).state).toBe("ok");
    for (let i = 0; i <= TARPIT_AFTER; i++) expect((await settled(read(alice))).state).toBe("refused");
    expect(rl.tarpitted().read).toBe(0);

    const anon = createRateLimiter(limits({ anonymousPerSec: 1, windowSeconds: 60, tarpitMaxMs: 500 }), { logger: quiet });
    const catalog = anon.forMethod(InventoryService.method.getProduct)!;
    for (let i = 0; i < 60; i++) await settled(catalog(ANONYMOUS));
    for (let i = 0; i < 3 * TARPIT_AFTER; i++) expect((await settled(catalog(ANONYMOUS))).state).toBe("refused");
    expect(anon.tarpitted().read).toBe(0);

    const { rl: off, read: offRead } = await spent({ tarpitMaxMs: 0 });
    for (let i = 0; i < 3 * TARPIT_AFTER; i++) expect((await settled(offRead(alice))).state).toBe("refused");
    expect(off.tarpitted().read).toBe(0);
  });
});

describe("settings", () => {
  it("has defaults a shop never reaches but a script does", () => {
    expect(loadConfig({}).rateLimit).toEqual({
      enabled: true,
      windowSeconds: 10,
      readPerSec: 100,
      writePerSec: 20,
      watchPerSec: 5,
      anonymousPerSec: 1000,
      exemptRoles: ["service", "admin"],
      redisPrefix: "ratelimit:",
      tarpitMaxMs: 1000,
    });
  });

  it("reads every setting", () => {
    const c = loadConfig({
      RATE_LIMITS: "off",
      RATE_LIMIT_WINDOW_SECONDS: "1",
      RATE_LIMIT_READ_PER_SEC: "7",
      RATE_LIMIT_WRITE_PER_SEC: "0",
      RATE_LIMIT_WATCH_PER_SEC: "2",
      RATE_LIMIT_ANONYMOUS_PER_SEC: "50",
      RATE_LIMIT_EXEMPT_ROLES: "service, staff",
      RATE_LIMIT_REDIS_PREFIX: "shop-a:rl:",
      RATE_LIMIT_TARPIT_MAX_MS: "250",
    }).rateLimit;
    expect(c).toEqual({
      enabled: false,
      windowSeconds: 1,
      readPerSec: 7,
      writePerSec: 0,
      watchPerSec: 2,
      anonymousPerSec: 50,
      exemptRoles: ["service", "staff"],
      redisPrefix: "shop-a:rl:",
      tarpitMaxMs: 250,
    });
    expect(loadConfig({ RATE_LIMIT_EXEMPT_ROLES: "" }).rateLimit.exemptRoles).toEqual([]);
  });

  it.each([
    ["RATE_LIMITS", "maybe", /RATE_LIMITS must be true or false/],
    ["RATE_LIMIT_WINDOW_SECONDS", "0", /RATE_LIMIT_WINDOW_SECONDS must be an integer from 1 to 3600/],
    ["RATE_LIMIT_READ_PER_SEC", "-1", /RATE_LIMIT_READ_PER_SEC must be an integer/],
    ["RATE_LIMIT_WRITE_PER_SEC", "1.5", /RATE_LIMIT_WRITE_PER_SEC must be an integer/],
    ["RATE_LIMIT_WATCH_PER_SEC", "lots", /RATE_LIMIT_WATCH_PER_SEC must be an integer/],
    ["RATE_LIMIT_ANONYMOUS_PER_SEC", "2000000", /RATE_LIMIT_ANONYMOUS_PER_SEC must be an integer/],
    ["RATE_LIMIT_EXEMPT_ROLES", "service,root", /RATE_LIMIT_EXEMPT_ROLES must list some of customer, staff, admin, service, got "root"/],
    ["RATE_LIMIT_REDIS_PREFIX", "has space", /RATE_LIMIT_REDIS_PREFIX must be 1 to 64 visible ASCII/],
    ["RATE_LIMIT_TARPIT_MAX_MS", "-5", /RATE_LIMIT_TARPIT_MAX_MS must be an integer/],
  ])("refuses a bad %s", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
