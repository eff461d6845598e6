/**
 * Rate limits per principal and method class, enforced by wrapService
 * (handlers.ts) after authentication and authorization, before validation
 * and any database work, the same on every transport.
 *
 * - The class of a method is decided once, from its descriptor: opening a
 *   server stream is `watch`; a method declared `idempotency_level =
 *   NO_SIDE_EFFECTS` or named Get…/List… is `read`; everything else is
 *   `write`. The health service is never limited (probes must always answer).
 * - The key is the principal: `customer:<id>`, `staff:<sub>`. Anonymous calls
 *   (only public catalog reads allow them) share one bucket of their own: no
 *   transport tells us a trustworthy client address behind a proxy, and the
 *   connect-node path does not expose the peer at all. Exempt roles (by
 *   default `service` — the co-hosted order module calling inventory and
 *   customers for each of its callers — and `admin`) are not counted.
 * - Budgets are fixed windows of RATE_LIMIT_WINDOW_SECONDS; a budget is the
 *   class's per-second rate times the window, so a short burst of up to one
 *   window's worth goes through.
 * - With a Redis client the budget is shared by every instance (one Lua
 *   round trip per call); a principal that spent its budget is refused from
 *   memory until the window ends (inMemoryBlockOnConsumed), without Redis.
 *   While Redis is unreachable each process counts on its own (the memory
 *   insurance limiter): calls stay limited, never fail because of Redis.
 * - A caller that ignores its retry hint is answered slowly (the tarpit): a
 *   refusal is answered at once, and so are up to `TARPIT_AFTER` more in the
 *   same wait (a page's burst of parallel calls); past that, each further
 *   refusal before the hinted time is answered only after the rest of the
 *   wait, at most RATE_LIMIT_TARPIT_MAX_MS and never past the call's own
 *   deadline. A client bounds its calls in flight (HTTP/2 streams per
 *   connection, connections per process), so one that keeps hammering is
 *   slowed to that bound per wait instead of costing the server an HTTP/2
 *   stream, a token check and an error answer at whatever rate it sends
 *   (BENCHMARKS.md "Rate limits": a refusal costs about what serving
 *   costs). A client that waits as told is never delayed. The anonymous
 *   bucket is shared by every anonymous caller, so it is never tarpitted.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Logger } from "pino";
import { atMostEvery } from "./at-most-every.js";
import type { RateLimitConfig } from "../config.js";
import { resourceExhausted, untraced, type DomainError } from "../kernel/errors.js";
import type { Principal, Role } from "../kernel/principal.js";

export const METHOD_CLASSES = ["read", "write", "watch"] as const;
export type MethodClass = (typeof METHOD_CLASSES)[number];

/** Services whose calls are never limited. */
const UNLIMITED_SERVICES: ReadonlySet<string> = new Set(["grpc.health.v1.Health"]);

/** The class of `method`'s calls, or undefined when they are never limited. */
export function methodClassOf(method: DescMethod): MethodClass | undefined {
  if (UNLIMITED_SERVICES.has(method.parent.typeName)) return undefined;
  if (method.methodKind !== "unary") return "watch";
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return "read";
  return /^(Get|List)[A-Z]/.test(method.name) ? "read" : "write";
}

/** The bucket a principal's calls count against: `anonymous` for every anonymous caller, else `<role>:<id>`. */
export function limitKeyOf(p: Principal): string {
  return p.role === "anonymous" ? "anonymous" : `${p.role}:${p.id}`;
}

/** What the limiter may ask of the call: the milliseconds left before its deadline (undefined: none). */
export interface CallDeadline {
  timeoutMs(): number | undefined;
}

/**
 * Checks one call of a method: resolves to let it through, rejects with
 * RESOURCE_EXHAUSTED RATE_LIMITED (after the tarpit's delay when the caller
 * ignores its retry hints; `deadline` bounds that delay).
 */
export type CallLimit = (principal: Principal, deadline?: CallDeadline) => Promise<void> | undefined;

export interface RateLimiter {
  /** The check for `method`'s calls; undefined when they are never limited (nothing to do per call). */
  forMethod(method: DescMethod): CallLimit | undefined;
  /** Calls refused so far, by method class (for metrics). */
  refused(): Readonly<Record<MethodClass, number>>;
  /** Of those, refusals the tarpit held back (their caller kept calling through its wait). */
  tarpitted(): Readonly<Record<MethodClass, number>>;
}

export interface RateLimiterDeps {
  readonly logger: Logger;
  /** Shares budgets between instances; without it each process counts alone. */
  readonly redis?: Redis;
  /** How often, at most, falling back to per-process counting is logged. */
  readonly noticeIntervalMs?: number;
}

const perSecOf = (c: RateLimitConfig): Record<MethodClass, number> => ({
  read: c.readPerSec,
  write: c.writePerSec,
  watch: c.watchPerSec,
});


/**
 * The memory limiter Redis limiters fall back to. The library calls it only
 * when Redis failed (not ready, a command error or timeout), so it is where
 * the fallback is noticed.
 */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    opts: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly onUse: () => void,
  ) {
    super(opts);
  }
  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(key, points, options);
  }
}

/**
 * Retry hints are rounded up to this step (never below it): a client told to
 * wait up to 99 ms longer loses nothing (`retry-after` is whole seconds
 * anyway), and refusals within one step can share one answer.
 */
export const RETRY_STEP_MS = 100;
/** Shared answers kept per limiter (a window of 10 s has 100 steps); past it they are built afresh. */
const MAX_SHARED_ANSWERS = 1000;
/** Refusals answered at once within one wait, beyond the first, before the tarpit slows a caller. */
export const TARPIT_AFTER = 10;
/** A tarpitted refusal is answered this long before the call's deadline at the latest. */
const TARPIT_DEADLINE_MARGIN_MS = 20;
/** Callers whose refusals are tracked for the tarpit, per class; past it the oldest are forgotten. */
const MAX_TRACKED_CALLERS = 10_000;

/** A refused caller's current wait: until when, and how many more refusals it had within it. */
interface Wait {
  until: number;
  again: number;
}

/**
 * The refusal. Built without a stack trace: it says nothing a trace would
 * add, and capturing one was most of a refused call's cost in the limiter
 * (measured 14 µs with it, 5 µs without), which an abuser pays at its own rate.
 */
function rateLimited(cls: MethodClass, points: number, windowSeconds: number, who: string, msBeforeNext: number) {
  return untraced(() =>
    resourceExhausted(
      "RATE_LIMITED",
      `too many ${cls} calls: at most ${points} every ${windowSeconds} s ${who}; retry after ${Math.ceil(msBeforeNext)} ms`,
      msBeforeNext,
      { methodClass: cls, limit: String(points), windowSeconds: String(windowSeconds) },
    ),
  );
}

export function createRateLimiter(config: RateLimitConfig, deps: RateLimiterDeps): RateLimiter {
  const { logger, redis } = deps;
  const window = config.windowSeconds;
  const exempt: ReadonlySet<Role> = new Set(config.exemptRoles);
  const interval = deps.noticeIntervalMs ?? 30_000;
  const noticeFallback = atMostEvery(interval, () =>
    logger.warn({ redisStatus: redis?.status }, "Redis unreachable or too slow: rate limits are counted in this process only until it answers again"),
  );
  const noticeFailure = atMostEvery(interval, (err: unknown) => logger.warn({ err }, "rate limiter failed; calls are let through"));

  const build = (keyPrefix: string, points: number): RateLimiterAbstract => {
    if (!redis) return new RateLimiterMemory({ keyPrefix, points, duration: window });
    return new RateLimiterRedis({
      storeClient: redis,
      keyPrefix,
      points,
      duration: window,
      // A caller that spent its budget is refused from memory for the rest of the window.
      inMemoryBlockOnConsumed: points,
      // Not connected: straight to the insurance limiter, no command queued.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new InsuranceLimiter({ keyPrefix, points, duration: window }, noticeFallback),
    });
  };
  const refusals: Record<MethodClass, number> = { read: 0, write: 0, watch: 0 };
  const tarpitted: Record<MethodClass, number> = { read: 0, write: 0, watch: 0 };
  const tarpitMaxMs = config.tarpitMaxMs;
  const check = (limiter: RateLimiterAbstract, cls: MethodClass, points: number, who: string, tarpit: boolean) => {
    // One shared answer per retry step: an abuser's refusals within a step are one error object,
    // whose wire encodings rpc-errors.ts and connect-unary.ts keep (refusals cost less than service).
    const answers = new Map<number, DomainError>();
    const refusal = (msBeforeNext: number) => {
      const ms = Math.max(RETRY_STEP_MS, Math.ceil(msBeforeNext / RETRY_STEP_MS) * RETRY_STEP_MS);
      let answer = answers.get(ms);
      if (answer === undefined) {
        if (answers.size >= MAX_SHARED_ANSWERS) answers.clear();
        answer = rateLimited(cls, points, window, who, ms);
        answers.set(ms, answer);
      }
      return answer;
    };
    // The tarpit's memory: each refused caller's current wait (insertion-ordered, oldest first).
    const waits = new Map<string, Wait>();
    /** How long to hold this refusal of `key` back: 0 unless the caller keeps calling through its wait. */
    const holdBack = (key: string, msBeforeNext: number, deadline: CallDeadline | undefined): number => {
      const now = Date.now();
      const wait = waits.get(key);
      if (wait === undefined || now >= wait.until) {
        if (wait !== undefined) waits.delete(key);
        else if (waits.size >= MAX_TRACKED_CALLERS) waits.delete(waits.keys().next().value!);
        waits.set(key, { until: now + msBeforeNext, again: 0 });
        return 0;
      }
      wait.until = now + msBeforeNext;
      if (++wait.again <= TARPIT_AFTER) return 0;
      const left = deadline?.timeoutMs();
      return Math.max(0, Math.min(msBeforeNext, tarpitMaxMs, left === undefined ? Infinity : left - TARPIT_DEADLINE_MARGIN_MS));
    };
    const refused = (key: string, deadline: CallDeadline | undefined) => (rej: unknown): void | Promise<void> => {
      if (rej instanceof RateLimiterRes) {
        refusals[cls]++;
        const hold = tarpit && tarpitMaxMs > 0 ? holdBack(key, rej.msBeforeNext, deadline) : 0;
        if (hold <= 0) throw refusal(rej.msBeforeNext);
        tarpitted[cls]++;
        // Answered after the hold, with the wait that is left then.
        return new Promise<void>((_, reject) => setTimeout(() => reject(refusal(rej.msBeforeNext - hold)), hold));
      }
      // Not a verdict: the limiter itself failed. Let the call through rather than fail it.
      noticeFailure(rej);
    };
    return (key: string, deadline?: CallDeadline) => limiter.consume(key).then(() => undefined, refused(key, deadline));
  };

  const anonymousPoints = config.anonymousPerSec * window;
  const anonymousLimiter = anonymousPoints > 0 ? build(`${config.redisPrefix}anonymous`, anonymousPoints) : undefined;
  type Check = (key: string, deadline?: CallDeadline) => Promise<void>;
  const perClass = new Map<MethodClass, { named?: Check; anonymous?: Check }>();
  for (const cls of METHOD_CLASSES) {
    const points = perSecOf(config)[cls] * window;
    perClass.set(cls, {
      named: points > 0 ? check(build(`${config.redisPrefix}${cls}`, points), cls, points, "for each caller", true) : undefined,
      anonymous: anonymousLimiter && check(anonymousLimiter, cls, anonymousPoints, "for anonymous callers together", false),
    });
  }

  return {
    refused: () => ({ ...refusals }),
    tarpitted: () => ({ ...tarpitted }),
    forMethod(method) {
      const cls = methodClassOf(method);
      if (!config.enabled || cls === undefined) return undefined;
      const { named, anonymous } = perClass.get(cls)!;
      if (!named && !anonymous) return undefined;
      return (p, deadline) => {
        if (p.role === "anonymous") return anonymous?.("anonymous");
        if (exempt.has(p.role)) return undefined;
        return named?.(limitKeyOf(p), deadline);
      };
    },
  };
}
