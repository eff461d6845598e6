/**
 * The process's Redis client (REDIS_URL), made by the composition root and
 * closed on shutdown. Redis is an optimisation here, never a dependency a
 * call waits for: nothing queues while it is down (enableOfflineQueue off,
 * maxRetriesPerRequest 0: a command is refused at once and its caller falls
 * back), a command that gets no answer gives up after `commandTimeoutMs`,
 * and the client reconnects forever with a capped backoff so a restarted
 * Redis is used again within a second. Errors are logged at most once per
 * interval, not per call or per reconnect attempt.
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { redactUrl } from "../config.js";
import { atMostEvery } from "./at-most-every.js";

export interface RedisHandle {
  readonly client: Redis;
  /**
   * The first connection attempt: resolves once Redis is ready or the attempt
   * failed (within connectTimeout), never rejects — an unreachable Redis must
   * not stop start-up; the client keeps retrying.
   */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisOptions {
  readonly commandTimeoutMs?: number;
  /** How often, at most, a failing connection is logged. */
  readonly noticeIntervalMs?: number;
}

export function createRedisClient(url: string, logger: Logger, opts: RedisOptions = {}): RedisHandle {
  const client = new Redis(url, {
    lazyConnect: true,
    // Commands of one event-loop turn go out in one write: less CPU per call under load.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: opts.commandTimeoutMs ?? 200,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000),
  });
  const where = redactUrl(url);
  let down = false;
  const noticeError = atMostEvery(opts.noticeIntervalMs ?? 30_000, (err: Error) =>
    logger.warn({ redis: where, error: err.message }, "Redis unreachable; retrying"),
  );
  // Without a listener ioredis prints every connection error itself.
  client.on("error", (err: Error) => {
    down = true;
    noticeError(err);
  });
  client.on("ready", () => {
    if (down) logger.info({ redis: where }, "Redis reachable again");
    down = false;
  });
  return {
    client,
    async connect() {
      await client.connect().catch(() => undefined); // reported through "error"; retried by retryStrategy
    },
    async close() {
      client.disconnect();
    },
  };
}
