/**
 * Redis for tests. `sharedRedisUrl` is the machine's Redis: REDIS_URL when
 * set (CI's Postgres run), else 127.0.0.1:6379 when it answers PING (CI's
 * PGlite run unsets REDIS_URL but CI starts Redis there), else undefined —
 * and the reason is printed, so a skip is visible. `startRedis` runs a
 * private redis-server on a free port below 32768, which a test may kill
 * (SIGKILL) and start again on the same port. Keys carry a fresh prefix per
 * test run (`uniquePrefix`), so runs sharing a Redis never count each
 * other's calls.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { Redis } from "ioredis";
import { startTestStack, testConfig, type TestStack } from "./servers.js";

const LOCAL = "redis://127.0.0.1:6379";

/** Sends PING on a fresh connection; true when PONG comes back within `timeoutMs`. */
export function pings(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  client.on("error", () => undefined);
  return client
    .connect()
    .then(() => client.ping())
    .then((r) => r === "PONG", () => false)
    .finally(() => client.disconnect());
}

let shared: Promise<string | undefined> | undefined;

export function sharedRedisUrl(): Promise<string | undefined> {
  return (shared ??= (async () => {
    const fromEnv = process.env.REDIS_URL;
    if (fromEnv) return fromEnv;
    if (await pings(LOCAL)) return LOCAL;
    process.stdout.write(`skipping the shared-Redis tests: REDIS_URL is unset and nothing answers PING on ${LOCAL}\n`);
    return undefined;
  })());
}

export const uniquePrefix = (what: string) => `test:${what}:${randomBytes(6).toString("hex")}:`;

/** A TCP port below 32768 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port below 32768");
}

export const redisServerPath = (): string | undefined => {
  const r = spawnSync("which", ["redis-server"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no shutdown, connections reset. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** A new redis-server on the same port (empty unless durable). Resolves once it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Polls `cond` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A private redis-server. By default it keeps nothing: after a restart its
 * streams are empty. `durable`: an append-only file, fsync on every write, in
 * a temporary directory (removed by stop()), so what it acknowledged survives
 * a SIGKILL and is loaded back on restart — a test can then tell an event a
 * relay lost from one it never sent.
 */
export async function startRedis(opts: { durable?: boolean } = {}): Promise<PrivateRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error("redis-server is not installed");
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = opts.durable ? mkdtempSync(join(tmpdir(), "durable-redis-")) : undefined;
  const persistence = dir ? ["--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"] : ["--save", "", "--appendonly", "no"];
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", ...persistence], { stdio: "ignore" });
    await until(() => pings(url, 500), `redis-server on port ${port}`);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await gone;
  };
  await launch();
  const stop = async () => {
    await kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  return { url, port, kill, restart: launch, stop };
}

/** The app as main.ts builds it, publishing its events to `url` under `prefix`, and a client to read them. */
export interface RedisEventsStack {
  readonly stack: TestStack;
  readonly redis: Redis;
  /** Stops the app, deletes the run's keys, closes the client. */
  close(): Promise<void>;
}

export async function startRedisEventsStack(url: string, prefix: string): Promise<RedisEventsStack> {
  const base = await testConfig();
  const stack = await startTestStack({ config: { events: { ...base.events, broker: "redis", redisUrl: url, redisPrefix: prefix, pollMs: 50 } } });
  const redis = new Redis(url, { lazyConnect: true, protocol: 2 });
  await redis.connect();
  return {
    stack,
    redis,
    async close() {
      await stack.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
