/**
 * What a rate-limit check costs per call, in process (BENCHMARKS.md "Rate
 * limits"): the memory limiter, the Redis limiter (REDIS_URL, else
 * 127.0.0.1:6379) one call at a time (its latency is the round trip) and 64
 * in flight (CPU per call), a caller refused from memory, and a bare Redis
 * PING for comparison. CPU time is process.cpuUsage, so it holds on a shared
 * machine better than wall time.
 *
 *   npx tsx scripts/measure-rate-limit.ts [calls]
 */
import { Redis } from "ioredis";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";
import { loadConfig } from "../src/config.js";
import type { Principal } from "../src/kernel/principal.js";
import { createLogger } from "../src/platform/logger.js";
import { createRateLimiter } from "../src/platform/rate-limit.js";
import { createRedisClient } from "../src/platform/redis.js";

const calls = Number(process.argv[2] ?? 100_000);
const logger = createLogger("silent");
const principals: Principal[] = Array.from({ length: 1000 }, (_, i) => ({ role: "customer", id: `c-${i}` }));
const roomy = { ...loadConfig({}).rateLimit, readPerSec: 1_000_000, windowSeconds: 60, redisPrefix: `measure:${process.pid}:` };

async function timed(label: string, n: number, inFlight: number, one: (i: number) => Promise<unknown> | undefined) {
  for (let i = 0; i < Math.min(n, 2000); i++) await one(i); // warm up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await one(next++);
    }),
  );
  const wallUs = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(cpu0);
  const cpuUs = (c.user + c.system) / n;
  process.stdout.write(`${label.padEnd(58)} ${wallUs.toFixed(2).padStart(8)} µs/call wall  ${cpuUs.toFixed(2).padStart(7)} µs/call CPU\n`);
}

const memory = createRateLimiter(roomy, { logger }).forMethod(OrderService.method.getOrder)!;
await timed("baseline: await Promise.resolve()", calls, 1, () => Promise.resolve());
await timed("memory limiter, under the limit (1000 principals)", calls, 1, (i) => memory(principals[i % 1000]));
const tight = createRateLimiter({ ...roomy, readPerSec: 1 }, { logger }).forMethod(OrderService.method.getOrder)!;
await timed("memory limiter, refused (over the limit)", calls, 1, () => tight(principals[0])!.catch(() => undefined));

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = createRedisClient(url, logger);
await redis.connect();
if (redis.client.status !== "ready") {
  process.stdout.write(`no Redis at ${url}: Redis rows skipped\n`);
} else {
  const viaRedis = createRateLimiter(roomy, { logger, redis: redis.client }).forMethod(OrderService.method.getOrder)!;
  const n = Math.min(calls, 20_000);
  const ping = new Redis(url);
  await timed("Redis PING, one at a time (the round trip)", n, 1, () => ping.ping());
  await timed("Redis limiter, under the limit, one at a time", n, 1, (i) => viaRedis(principals[i % 1000]));
  await timed("Redis limiter, under the limit, 64 in flight", n, 64, (i) => viaRedis(principals[i % 1000]));
  const blocked = createRateLimiter({ ...roomy, readPerSec: 1 }, { logger, redis: redis.client }).forMethod(OrderService.method.getOrder)!;
  await timed("Redis limiter, refused from memory (budget spent)", calls, 1, () => blocked(principals[0])!.catch(() => undefined));
  const keys = await ping.keys(`${roomy.redisPrefix}*`);
  if (keys.length > 0) await ping.del(...keys);
  ping.disconnect();
}
await redis.close();
