/**
 * Rate limits through a real Redis: two app instances share one budget; a
 * Redis that dies (SIGKILL) mid-test leaves calls limited per process by the
 * memory insurance limiter — never INTERNAL, never past their deadline — and
 * a Redis restarted on the same port is used again; a Redis that never
 * answers is logged once per interval, not per call. Every test counts under
 * a key prefix of its own.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import type { RateLimitConfig } from "../../../src/config.js";
import type { Principal } from "../../../src/kernel/principal.js";
import { createRateLimiter } from "../../../src/platform/rate-limit.js";
import { createRedisClient } from "../../../src/platform/redis.js";
import { customer, withPrincipal } from "../../support/auth.js";
import { freePort, redisServerPath, sharedRedisUrl, startRedis, uniquePrefix } from "../../support/redis.js";
import { reasonOf } from "../../support/rpc-errors.js";
import { startTestStack, testConfig, type TestStack } from "../../support/servers.js";

const WINDOW_S = 6;
const BUDGET = 6; // reads per window: 1 per second
const sharedUrl = await sharedRedisUrl();
const stacks: TestStack[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  for (const s of stacks.reverse()) await s.close();
  for (const c of clients) c.disconnect();
});

async function limits(redisPrefix: string): Promise<RateLimitConfig> {
  // The tarpit off: these tests call in a tight loop through their waits, which it would slow by design
  // (unit/platform/rate-limit.test.ts tests it).
  return { ...(await testConfig()).rateLimit, windowSeconds: WINDOW_S, readPerSec: BUDGET / WINDOW_S, redisPrefix, tarpitMaxMs: 0 };
}

async function stackOn(redisUrl: string, prefix: string, share?: TestStack): Promise<TestStack> {
  const s = await startTestStack({ database: share?.database, config: { redisUrl, rateLimit: await limits(prefix) } });
  stacks.push(s);
  return s;
}

/** One ListOrders of `who` for itself through `stack` (in process: the same wrapping as the ports): its code. */
async function read(stack: TestStack, who: Principal, timeoutMs = 2000): Promise<string> {
  const orders = createClient(OrderService, withPrincipal(stack.transport, who));
  return orders.listOrders({ customerId: who.id }, { timeoutMs }).then(
    () => "OK",
    (e: unknown) => {
      const err = ConnectError.from(e);
      return err.code === Code.ResourceExhausted ? `RESOURCE_EXHAUSTED ${reasonOf(err)}` : Code[err.code];
    },
  );
}

const redisOf = (url: string) => {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  c.on("error", () => undefined); // the probe of a Redis a test kills
  clients.push(c);
  return c;
};

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!sharedUrl)("two instances on one Redis", () => {
  it("share one budget per principal", async () => {
    const prefix = uniquePrefix("shared");
    const a = await stackOn(sharedUrl!, prefix);
    const b = await stackOn(sharedUrl!, prefix, a);
    const alice = customer(randomUUID());
    const first = [];
    for (let i = 0; i < BUDGET; i++) first.push(await read(i % 2 ? b : a, alice));
    expect(first).toEqual(Array(BUDGET).fill("OK"));
    // Each instance alone would allow BUDGET: together they allowed BUDGET and refuse the next.
    expect(await read(a, alice)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
    expect(await read(b, alice)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
    // b made the last allowed call and refused its next from memory; only a's refused call reached Redis.
    expect(await redisOf(sharedUrl!).get(`${prefix}read:customer:${alice.id}`)).toBe(String(BUDGET + 1));
    expect(await read(b, customer(randomUUID()))).toBe("OK");
  });
});

describe.skipIf(!redisServerPath())("Redis stopped mid-test", () => {
  it("limits per process while Redis is down, never fails a call, and uses Redis again once it is back", async () => {
    const redis = await startRedis();
    try {
      const prefix = uniquePrefix("killed");
      const stack = await stackOn(redis.url, prefix);
      const probe = redisOf(redis.url);
      const keyOf = (p: Principal) => `${prefix}read:customer:${p.id}`;
      const alice = customer(randomUUID());
      for (let i = 0; i < BUDGET; i++) expect(await read(stack, alice)).toBe("OK");
      expect(await read(stack, alice)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
      expect(await probe.get(keyOf(alice))).toBe(String(BUDGET));

      await redis.kill();
      // Down: every call answers within its deadline, limited by the memory insurance limiter.
      const bob = customer(randomUUID());
      const down = [];
      for (let i = 0; i < BUDGET + 3; i++) down.push(await read(stack, bob, 1500));
      expect(down).toEqual([...Array(BUDGET).fill("OK"), ...Array(3).fill("RESOURCE_EXHAUSTED RATE_LIMITED")]);
      expect(await read(stack, alice)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED"); // still blocked in memory

      await redis.restart();
      // Back: a new principal's call is counted in Redis again (the restarted Redis starts empty).
      await eventually(async () => {
        const who = customer(randomUUID());
        return (await read(stack, who)) === "OK" && (await probe.get(keyOf(who)).catch(() => null)) === "1";
      }, "calls are counted in Redis again");
      // And Redis' count is the verdict: a budget spent elsewhere (another instance) refuses here.
      const carol = customer(randomUUID());
      await probe.set(keyOf(carol), String(BUDGET), "EX", WINDOW_S * 2);
      expect(await read(stack, carol)).toBe("RESOURCE_EXHAUSTED RATE_LIMITED");
    } finally {
      for (const c of clients.splice(0)) c.disconnect();
      await redis.stop();
    }
  }, 60_000);
});

describe("a Redis that never answers", () => {
  it("is logged once per interval, not per call, and calls stay limited in memory", async () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
        done();
      },
    });
    const logger = pino({ level: "info" }, sink);
    const redis = createRedisClient(`redis://127.0.0.1:${await freePort()}`, logger, { noticeIntervalMs: 60_000 });
    await redis.connect();
    try {
      const rl = createRateLimiter(await limits(uniquePrefix("nowhere")), { logger, redis: redis.client, noticeIntervalMs: 60_000 });
      const check = rl.forMethod(OrderService.method.listOrders)!;
      const alice = customer(randomUUID());
      const verdicts = [];
      for (let i = 0; i < 40; i++) verdicts.push(await check(alice)!.then(() => "ok", (e: Error) => e.message.split(":")[0]));
      expect(verdicts).toEqual([...Array(BUDGET).fill("ok"), ...Array(40 - BUDGET).fill("too many read calls")]);
      // Let the client try to connect a few times more.
      await eventually(async () => redis.client.status === "reconnecting", "the client retries");
      await new Promise((r) => setTimeout(r, 500));
      const count = (msg: string) => lines.filter((l) => l.msg.startsWith(msg)).length;
      expect(count("Redis unreachable or too slow: rate limits are counted in this process only")).toBe(1);
      expect(count("Redis unreachable; retrying")).toBeLessThanOrEqual(1);
    } finally {
      await redis.close();
    }
  });
});
