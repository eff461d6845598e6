/**
 * The only file that reads the environment. Every setting is parsed and
 * validated once; a bad value stops start-up with a message naming the
 * variable. README.md documents each one.
 */
import os from "node:os";
import { ROLES, type Role } from "./kernel/principal.js";
import { tracingWanted } from "./platform/telemetry-env.js";

export const SERVICE_NAMES = ["orders", "inventory", "customers"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface Config {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly services: readonly ServiceName[];
  /**
   * WORKERS: processes serving both ports (node:cluster; README "Every core"). Default: the
   * cores available (os.availableParallelism()) on Postgres, 1 on embedded PGlite, whose single
   * writer one process owns (more is refused). 1 runs no cluster at all.
   */
  readonly workers: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly dbPoolMax: number;
  readonly dbPoolWaitMs: number;
  readonly migrateOnStart: boolean;
  readonly seedDemoData: boolean;
  readonly inventoryAddr: string | undefined;
  readonly customersAddr: string | undefined;
  readonly reservationTtlSeconds: number;
  readonly reservationSweepMs: number;
  /** STOCK_LOW_THRESHOLD: available units below which a product is low (StockLow / StockReplenished events); 0: no stock events (default 10). */
  readonly stockLowThreshold: number;
  /**
   * REQUIRE_CAPTURE_BEFORE_FULFILMENT: an order moves to PROCESSING or SHIPPED only once its whole
   * total is captured (default false: authorise at checkout, capture on shipment, the usual card flow).
   */
  readonly requireCaptureBeforeFulfilment: boolean;
  /** RETURN_WINDOW_DAYS: days after an order's last delivery in which its customer may request a return (default 30; staff: any time). */
  readonly returnWindowDays: number;
  readonly reconcileIntervalMs: number;
  /** How often an instance tries to lead the single-instance background work, and a leader checks its lock (LEADER_RETRY_MS). */
  readonly leaderRetryMs: number;
  readonly watchPollMs: number;
  readonly watchMaxPerPrincipal: number;
  readonly watchMaxTotal: number;
  readonly watchMaxLifetimeMs: number;
  readonly orderCacheSize: number;
  readonly maxReceiveMessageBytes: number;
  readonly maxHeaderBytes: number;
  readonly defaultDeadlineMs: number;
  readonly deadlineMarginMs: number;
  readonly redisUrl: string | undefined;
  readonly rateLimit: RateLimitConfig;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  /** Connections (README "Connections and shutdown"). */
  readonly connections: ConnectionsConfig;
  readonly grpcReflection: boolean;
  /** Browsers on other origins (README "Web clients"): CORS on the HTTP port. */
  readonly cors: CorsConfig;
  readonly auth: AuthConfig;
  readonly admission: AdmissionConfig;
  /** Prometheus metrics on the HTTP port's /metrics (README "Metrics"). */
  readonly metrics: MetricsConfig;
  /** Purging of tables that only grow (README "Retention"). */
  readonly retention: RetentionConfig;
  /** Events out (README "Events"). */
  readonly events: EventsConfig;
  /**
   * Spans for every call (tracing.ts) and trace ids in log lines: on when the
   * standard OTEL_* variables configure a trace exporter (telemetry-env.ts),
   * the same rule by which instrumentation.ts starts the SDK.
   */
  readonly tracing: boolean;
}

export interface MetricsConfig {
  /** METRICS: record and serve metrics (default true). */
  readonly enabled: boolean;
  /** METRICS_PUBLIC: /metrics without a token; default false (an admin or service token is needed). */
  readonly public: boolean;
}

/**
 * Retention (README "Retention"): rows past their window are deleted in
 * batches by one instance (its own leader lock per service). A window of 0
 * keeps those rows for ever. Outbox rows are purged only once published.
 */
export interface RetentionConfig {
  /** RETENTION_IDEMPOTENCY_HOURS: CreateOrder's idempotency records, by age (default 168 = 7 days; 0 never). */
  readonly idempotencyHours: number;
  /** RETENTION_RESERVATIONS_HOURS: released and expired reservations, by time since they ended (default 168; 0 never). */
  readonly reservationsHours: number;
  /** RETENTION_OUTBOX_HOURS: outbox rows, by time since they were published (default 168; 0 never); unpublished rows never. */
  readonly outboxHours: number;
  /** RETENTION_INTERVAL_MS: how often a purge pass runs on the leader (default 60000). */
  readonly intervalMs: number;
  /** RETENTION_BATCH_SIZE: rows one delete statement removes at most (default 1000). */
  readonly batchSize: number;
}

function retentionConfig(env: Env): RetentionConfig {
  return Object.freeze({
    // Hours, up to ten years: a window is never shorter than an hour, far past any client's retries.
    idempotencyHours: int(env, "RETENTION_IDEMPOTENCY_HOURS", 168, 0, 87_600),
    reservationsHours: int(env, "RETENTION_RESERVATIONS_HOURS", 168, 0, 87_600),
    outboxHours: int(env, "RETENTION_OUTBOX_HOURS", 168, 0, 87_600),
    intervalMs: int(env, "RETENTION_INTERVAL_MS", 60_000, 100, 86_400_000),
    batchSize: int(env, "RETENTION_BATCH_SIZE", 1000, 1, 100_000),
  });
}

/** Events out (README "Events"): the broker the outbox is published to, and the relay's settings. */
export interface EventsConfig {
  /** EVENTS_BROKER: `redis` (default when REDIS_URL is set), `nats` (default when only NATS_URL is), `none`. */
  readonly broker: "redis" | "nats" | "none";
  readonly redisUrl: string | undefined;
  /** NATS_URL: nats://host:port[,nats://…] (a cluster's seed servers). */
  readonly natsUrl: string | undefined;
  /** EVENTS_REDIS_PREFIX: key prefix of the streams (default "events:"). */
  readonly redisPrefix: string;
  /** EVENTS_REDIS_MAXLEN: entries a stream keeps at most, beyond what consumer groups still need (default 1000000). */
  readonly redisMaxLen: number;
  /** EVENTS_NATS_REPLICAS: replicas of the JetStream streams the service creates (default 1; 3 on a cluster). */
  readonly natsReplicas: number;
  /** EVENTS_NATS_PREFIX: prepended to the JetStream streams' names and subjects ("dev_" → stream DEV_ORDERS, subjects dev_orders.>; default none). */
  readonly natsPrefix: string;
  /** EVENTS_BATCH_SIZE: events one relay pass publishes at most (default 200). */
  readonly batchSize: number;
  /** EVENTS_POLL_MS: how often the relay looks for other processes' events (default 500; this process's commits wake it). */
  readonly pollMs: number;
  /** EVENTS_MAX_ATTEMPTS: refusals of one event before it goes to the dead letters (default 5). */
  readonly maxAttempts: number;
  /** EVENTS_SOURCE: the CloudEvents `source` (default "order-service"). */
  readonly source: string;
}

function eventsConfig(env: Env, redisUrl: string | undefined): EventsConfig {
  const natsUrl = natsUrls(env);
  const named = env.EVENTS_BROKER?.trim();
  const broker = named || (redisUrl ? "redis" : natsUrl ? "nats" : "none");
  if (broker !== "redis" && broker !== "nats" && broker !== "none") throw new ConfigError(`EVENTS_BROKER must be redis, nats or none (got "${broker}")`);
  if (broker === "redis" && !redisUrl) throw new ConfigError("EVENTS_BROKER=redis needs REDIS_URL");
  if (broker === "nats" && !natsUrl) throw new ConfigError("EVENTS_BROKER=nats needs NATS_URL");
  return Object.freeze({
    broker,
    redisUrl,
    natsUrl,
    redisPrefix: env.EVENTS_REDIS_PREFIX ?? "events:",
    redisMaxLen: int(env, "EVENTS_REDIS_MAXLEN", 1_000_000, 1000, 1_000_000_000),
    natsReplicas: int(env, "EVENTS_NATS_REPLICAS", 1, 1, 5),
    natsPrefix: natsPrefix(env),
    batchSize: int(env, "EVENTS_BATCH_SIZE", 200, 1, 10_000),
    pollMs: int(env, "EVENTS_POLL_MS", 500, 10, 60_000),
    maxAttempts: int(env, "EVENTS_MAX_ATTEMPTS", 5, 1, 1000),
    source: env.EVENTS_SOURCE || "order-service",
  });
}

/** EVENTS_NATS_PREFIX: letters, digits, `_` and `-` only (it becomes part of a stream name and a subject token). */
function natsPrefix(env: Env): string {
  const prefix = env.EVENTS_NATS_PREFIX?.trim() ?? "";
  if (!/^[A-Za-z0-9_-]*$/.test(prefix)) throw new ConfigError(`EVENTS_NATS_PREFIX may hold only letters, digits, _ and - (got "${prefix}")`);
  return prefix;
}

/** NATS_URL: one or more nats:// (or tls://) URLs, comma-separated; undefined when unset. */
function natsUrls(env: Env): string | undefined {
  const urls = list(env, "NATS_URL");
  if (urls.length === 0) return undefined;
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(`NATS_URL must be nats://host:port URLs, comma-separated`);
    }
    if (!["nats:", "tls:"].includes(parsed.protocol)) throw new ConfigError(`NATS_URL must use nats:// or tls:// (got ${parsed.protocol})`);
  }
  return urls.join(",");
}

/** Priority admission in front of database work (README: "Overload and priority"). */
export interface AdmissionConfig {
  /** Calls doing database work at once; 0 turns admission off. */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot, all classes together. */
  readonly maxQueue: number;
  /** Customer tiers remembered; 0: looked up on every call that has to wait. */
  readonly tierCacheSize: number;
  readonly tierCacheTtlMs: number;
  /** A List with a larger page is a bulk read (lowest class). */
  readonly bulkPageSize: number;
}

/** Limits on the connections of both ports (README: "Connections and shutdown"). */
export interface ConnectionsConfig {
  /** To the first byte and to a complete HTTP/1 header block. */
  readonly headersTimeoutMs: number;
  /** To a complete HTTP/1 request, body included. */
  readonly requestTimeoutMs: number;
  /** A connection with no call open is closed after this. */
  readonly idleTimeoutMs: number;
  /** HTTP/2 streams (calls) open at once on one connection. */
  readonly maxConcurrentStreams: number;
  /** Open connections of the process, both ports together. */
  readonly maxConnections: number;
}

function connectionsConfig(env: Env): ConnectionsConfig {
  const headersTimeoutMs = int(env, "HTTP_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000);
  const requestTimeoutMs = int(env, "HTTP_REQUEST_TIMEOUT_MS", 60_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  return Object.freeze({
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: int(env, "IDLE_TIMEOUT_MS", 60_000, 100, 3_600_000),
    maxConcurrentStreams: int(env, "MAX_CONCURRENT_STREAMS", 100, 1, 10_000),
    maxConnections: int(env, "MAX_CONNECTIONS", 10_000, 1, 1_000_000),
  });
}

/** `iss` and `aud` of tokens when AUTH_ISSUER / AUTH_AUDIENCE are not set. */
export const DEFAULT_ISSUER = "order-service";
export const DEFAULT_AUDIENCE = "order-service";

/** How callers are authenticated (README: "Identity and access"). */
export interface AuthConfig {
  /** Expected `iss` of every token, and the issuer of the tokens this service mints. */
  readonly issuer: string;
  /** Expected `aud`. */
  readonly audience: string;
  /** A JWKS URL to take verification keys from (cached; refetched on an unknown kid). */
  readonly jwksUrl: string | undefined;
  /** Files of trusted public keys (JWKS JSON or PEM). */
  readonly publicKeyFiles: readonly string[];
  /** Trust (and on first start create) a development key pair in DATA_DIR/auth. */
  readonly devKeys: boolean;
  /** A private key to mint this service's own tokens with, for services deployed apart. */
  readonly serviceKeyFile: string | undefined;
  /** A ready-made token for calls to services deployed apart, instead of minting one. */
  readonly serviceToken: string | undefined;
  readonly clockSkewSeconds: number;
  readonly tokenCacheSize: number;
  readonly jwksCooldownMs: number;
  readonly jwksCacheMaxAgeMs: number;
  /** Every call is an admin and nothing is verified: for measuring what authentication costs, never for use. */
  readonly disabled: boolean;
}

/** Calls per second of each method class (README: "Limits"); 0: that class is not limited. */
export interface RateLimitConfig {
  /** RATE_LIMITS=off turns every limit off. */
  readonly enabled: boolean;
  /** The fixed window a budget is counted in; a budget is the per-second rate times the window. */
  readonly windowSeconds: number;
  /** Per principal (customer or staff). */
  readonly readPerSec: number;
  readonly writePerSec: number;
  /** Streams opened per second. */
  readonly watchPerSec: number;
  /** All anonymous callers together, whatever the class (only public catalog reads allow them). */
  readonly anonymousPerSec: number;
  /** Roles never limited: by default the co-hosted services and admins. */
  readonly exemptRoles: readonly Role[];
  /** Prefix of the Redis keys (REDIS_URL set), so deployments or test runs sharing a Redis keep apart. */
  readonly redisPrefix: string;
  /** The longest a refusal is held back from a caller that ignores its retry hints (rate-limit.ts); 0: never. */
  readonly tarpitMaxMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** A URL for messages: any password (and query, which may hold secrets) replaced. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    if (u.search) u.search = "?…";
    return u.toString();
  } catch {
    return "<not a URL>";
  }
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got "${parsed.protocol}" (${redactUrl(raw)})`);
  }
  return raw;
}

function list(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return [];
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}

/** AUTH_DEV_KEYS: zero setup on the embedded database with no keys configured; an explicit choice on a real one. */
function devKeysWanted(env: Env, databaseUrl: string | undefined): boolean {
  const configured = (env.AUTH_JWKS_URL ?? "") !== "" || list(env, "AUTH_PUBLIC_KEYS").length > 0;
  return bool(env, "AUTH_DEV_KEYS", databaseUrl === undefined && !configured);
}

/** CORS (README "Web clients"). */
export interface CorsConfig {
  /**
   * CORS_ORIGINS: origins whose pages may call the HTTP port — `scheme://host[:port]`,
   * `scheme://host:*` (any port), or `*` (any origin); comma-separated, empty: none.
   * Default: localhost on any port while development keys are trusted (AUTH_DEV_KEYS
   * in effect: the zero-setup start, the compose stack), else none.
   */
  readonly origins: readonly string[];
}

/** The CORS_ORIGINS default while development keys are trusted: pages served from this machine, any port. */
export const DEV_CORS_ORIGINS: readonly string[] = Object.freeze([
  "http://localhost:*",
  "https://localhost:*",
  "http://127.0.0.1:*",
  "https://127.0.0.1:*",
  "http://[::1]:*",
  "https://[::1]:*",
]);

function corsConfig(env: Env, devKeys: boolean): CorsConfig {
  const entries = env.CORS_ORIGINS !== undefined ? list(env, "CORS_ORIGINS") : devKeys ? DEV_CORS_ORIGINS : [];
  return Object.freeze({ origins: Object.freeze([...new Set(entries.map(corsOrigin))]) });
}

/** One CORS_ORIGINS entry, as a browser would send it (lower case, no default port), or `…:*`, or `*`. */
function corsOrigin(entry: string): string {
  if (entry === "*") return entry;
  const anyPort = entry.endsWith(":*");
  const host = anyPort ? entry.slice(0, -2) : entry;
  const bad = () =>
    new ConfigError(`CORS_ORIGINS entries must be origins — http(s)://host[:port], http(s)://host:* for any port, or * — got "${entry}"`);
  let u: URL;
  try {
    u = new URL(host);
  } catch {
    throw bad();
  }
  const bare = !u.username && !u.password && u.pathname === "/" && !u.search && !u.hash && !u.hostname.includes("*");
  if (!["http:", "https:"].includes(u.protocol) || !bare || (anyPort && /:\d*\/?$/.test(host))) throw bad();
  return anyPort ? `${u.origin}:*` : u.origin;
}

function authConfig(env: Env, databaseUrl: string | undefined, needsServiceCredentials: boolean): AuthConfig {
  const jwksUrl = url(env, "AUTH_JWKS_URL", ["https:", "http:"]);
  const publicKeyFiles = list(env, "AUTH_PUBLIC_KEYS");
  const configured = jwksUrl !== undefined || publicKeyFiles.length > 0;
  const disabled = bool(env, "AUTH_DISABLED", false);
  const devKeys = devKeysWanted(env, databaseUrl);
  if (!configured && !devKeys && !disabled) {
    throw new ConfigError(
      "no token keys are configured: set AUTH_JWKS_URL (your identity provider's JWKS) or AUTH_PUBLIC_KEYS " +
        "(JWKS or PEM files), or AUTH_DEV_KEYS=true to trust a development key in DATA_DIR",
    );
  }
  const serviceKeyFile = env.AUTH_SERVICE_KEY || undefined;
  const serviceToken = env.AUTH_SERVICE_TOKEN || undefined;
  if (serviceKeyFile && serviceToken) throw new ConfigError("set AUTH_SERVICE_KEY or AUTH_SERVICE_TOKEN, not both");
  if (needsServiceCredentials && !serviceKeyFile && !serviceToken && !devKeys && !disabled) {
    throw new ConfigError(
      "orders calls inventory or customers over the network and needs a service identity for it: " +
        "set AUTH_SERVICE_KEY (a private key the other services trust) or AUTH_SERVICE_TOKEN",
    );
  }
  return Object.freeze({
    issuer: env.AUTH_ISSUER || DEFAULT_ISSUER,
    audience: env.AUTH_AUDIENCE || DEFAULT_AUDIENCE,
    jwksUrl,
    publicKeyFiles: Object.freeze(publicKeyFiles),
    devKeys,
    serviceKeyFile,
    serviceToken,
    clockSkewSeconds: int(env, "AUTH_CLOCK_SKEW_SECONDS", 30, 0, 300),
    tokenCacheSize: int(env, "AUTH_TOKEN_CACHE_SIZE", 10000, 0, 1000000),
    jwksCooldownMs: int(env, "AUTH_JWKS_COOLDOWN_MS", 30000, 0, 3600000),
    jwksCacheMaxAgeMs: int(env, "AUTH_JWKS_CACHE_MAX_AGE_MS", 600000, 1000, 86400000),
    disabled,
  });
}

function services(env: Env): ServiceName[] {
  const raw = env.SERVICES;
  if (raw === undefined || raw.trim() === "" || raw.trim() === "all") return [...SERVICE_NAMES];
  const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(SERVICE_NAMES as readonly string[]).includes(n)) {
      throw new ConfigError(`SERVICES must list some of ${SERVICE_NAMES.join(", ")} (or "all"), got "${n}"`);
    }
  }
  return [...new Set(names)] as ServiceName[];
}

function rateLimitConfig(env: Env): RateLimitConfig {
  const exemptRoles = env.RATE_LIMIT_EXEMPT_ROLES === undefined ? ["service", "admin"] : list(env, "RATE_LIMIT_EXEMPT_ROLES");
  for (const r of exemptRoles) {
    if (!(ROLES as readonly string[]).includes(r)) {
      throw new ConfigError(`RATE_LIMIT_EXEMPT_ROLES must list some of ${ROLES.join(", ")}, got "${r}"`);
    }
  }
  const redisPrefix = env.RATE_LIMIT_REDIS_PREFIX ?? "ratelimit:";
  if (!/^[\x21-\x7e]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError(`RATE_LIMIT_REDIS_PREFIX must be 1 to 64 visible ASCII characters, got "${redisPrefix}"`);
  }
  return Object.freeze({
    enabled: bool(env, "RATE_LIMITS", true),
    windowSeconds: int(env, "RATE_LIMIT_WINDOW_SECONDS", 10, 1, 3600),
    readPerSec: int(env, "RATE_LIMIT_READ_PER_SEC", 100, 0, 1_000_000),
    writePerSec: int(env, "RATE_LIMIT_WRITE_PER_SEC", 20, 0, 1_000_000),
    watchPerSec: int(env, "RATE_LIMIT_WATCH_PER_SEC", 5, 0, 1_000_000),
    anonymousPerSec: int(env, "RATE_LIMIT_ANONYMOUS_PER_SEC", 1000, 0, 1_000_000),
    exemptRoles: Object.freeze([...new Set(exemptRoles)] as Role[]),
    redisPrefix,
    tarpitMaxMs: int(env, "RATE_LIMIT_TARPIT_MAX_MS", 1000, 0, 60_000),
  });
}

function admissionConfig(env: Env, dbPoolMax: number): AdmissionConfig {
  // Four times the pool: CreateOrder's throughput still grows past 32 calls in flight on a pool of
  // 10 (its statements pipeline on every connection and commits share WAL flushes), and a limit
  // below that knee costs throughput with no overload at all — 2 × pool measured 89.8% of no gate
  // at 32 in flight, 4 × pool 102% (BENCHMARKS.md "Limits on vs off"). Past the limit a call waits
  // here, in priority order, not in the pool's FIFO.
  const maxConcurrent = int(env, "ADMISSION_MAX_CONCURRENT", 4 * dbPoolMax, 0, 100000);
  return Object.freeze({
    maxConcurrent,
    maxQueue: int(env, "ADMISSION_MAX_QUEUE", 10 * Math.max(1, maxConcurrent), 0, 1000000),
    tierCacheSize: int(env, "TIER_CACHE_SIZE", 10000, 0, 10000000),
    tierCacheTtlMs: int(env, "TIER_CACHE_TTL_MS", 60000, 100, 86400000),
    bulkPageSize: int(env, "BULK_PAGE_SIZE", 100, 1, 100000),
  });
}

/** Most WORKERS accepted: far past any machine's cores (each worker holds its own pool of DB_POOL_MAX connections). */
export const MAX_WORKERS = 256;

function workersConfig(env: Env, databaseUrl: string | undefined): number {
  const workers = int(env, "WORKERS", databaseUrl ? Math.min(MAX_WORKERS, os.availableParallelism()) : 1, 1, MAX_WORKERS);
  if (workers > 1 && !databaseUrl) {
    throw new ConfigError(
      `WORKERS=${workers} needs DATABASE_URL: the embedded database (PGlite) has a single writer that one process owns, ` +
        "so it cannot be shared by several workers; use WORKERS=1 or set DATABASE_URL to a PostgreSQL database",
    );
  }
  return workers;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * What `npm run events` needs of the service's settings — its events broker
 * and HTTP port — read as loadConfig reads them, without the rest (an
 * operator's shell need not hold the service's keys).
 */
export function loadEventsCliConfig(env: Env = process.env): { readonly events: EventsConfig; readonly httpPort: number } {
  return { events: eventsConfig(env, url(env, "REDIS_URL", ["redis:", "rediss:"])), httpPort: int(env, "HTTP_PORT", 8080, 0, 65535) };
}

export function loadConfig(env: Env = process.env): Config {
  const svc = services(env);
  const databaseUrl = url(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const inventoryAddr = url(env, "INVENTORY_ADDR", ["http:", "https:"]);
  const customersAddr = url(env, "CUSTOMERS_ADDR", ["http:", "https:"]);
  if (svc.includes("orders") && !svc.includes("inventory") && !inventoryAddr) {
    throw new ConfigError("INVENTORY_ADDR is required when SERVICES hosts orders without inventory");
  }
  if (svc.includes("orders") && !svc.includes("customers") && !customersAddr) {
    throw new ConfigError("CUSTOMERS_ADDR is required when SERVICES hosts orders without customers");
  }
  const logLevel = env.LOG_LEVEL ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }
  const dbPoolMax = int(env, "DB_POOL_MAX", 10, 1, 1000);
  return Object.freeze({
    host: env.HOST || "0.0.0.0",
    grpcPort: int(env, "GRPC_PORT", 50051, 0, 65535),
    httpPort: int(env, "HTTP_PORT", 8080, 0, 65535),
    services: Object.freeze(svc),
    workers: workersConfig(env, databaseUrl),
    databaseUrl,
    dataDir: env.DATA_DIR || "./.data",
    dbPoolMax,
    dbPoolWaitMs: int(env, "DB_POOL_WAIT_MS", 1000, 1, 60000),
    migrateOnStart: bool(env, "MIGRATE_ON_START", true),
    seedDemoData: bool(env, "SEED_DEMO_DATA", databaseUrl === undefined),
    inventoryAddr,
    customersAddr,
    reservationTtlSeconds: int(env, "RESERVATION_TTL_SECONDS", 900, 1, 86400),
    reservationSweepMs: int(env, "RESERVATION_SWEEP_INTERVAL_MS", 5000, 100, 3600000),
    stockLowThreshold: int(env, "STOCK_LOW_THRESHOLD", 10, 0, 1_000_000_000),
    requireCaptureBeforeFulfilment: bool(env, "REQUIRE_CAPTURE_BEFORE_FULFILMENT", false),
    returnWindowDays: int(env, "RETURN_WINDOW_DAYS", 30, 0, 3650),
    reconcileIntervalMs: int(env, "RECONCILE_INTERVAL_MS", 10000, 100, 3600000),
    leaderRetryMs: int(env, "LEADER_RETRY_MS", 5000, 50, 600000),
    // WatchOrder: the poll is only the fallback while the change listener is down.
    watchPollMs: int(env, "WATCH_POLL_INTERVAL_MS", 5000, 50, 60000),
    watchMaxPerPrincipal: int(env, "WATCH_MAX_PER_PRINCIPAL", 16, 1, 100000),
    watchMaxTotal: int(env, "WATCH_MAX_TOTAL", 10000, 1, 1000000),
    watchMaxLifetimeMs: int(env, "WATCH_MAX_LIFETIME_MS", 30 * 60_000, 1000, 86_400_000),
    orderCacheSize: int(env, "ORDER_CACHE_SIZE", 1000, 0, 1000000),
    maxReceiveMessageBytes: int(env, "MAX_RECEIVE_MESSAGE_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxHeaderBytes: int(env, "MAX_HEADER_BYTES", 16 * 1024, 4 * 1024, 1024 * 1024),
    defaultDeadlineMs: int(env, "DEFAULT_DEADLINE_MS", 5000, 10, 600000),
    deadlineMarginMs: int(env, "DEADLINE_MARGIN_MS", 50, 0, 10000),
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
    rateLimit: rateLimitConfig(env),
    logLevel,
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 10000, 0, 600000),
    connections: connectionsConfig(env),
    grpcReflection: bool(env, "GRPC_REFLECTION", true),
    cors: corsConfig(env, devKeysWanted(env, databaseUrl)),
    auth: authConfig(env, databaseUrl, svc.includes("orders") && (!svc.includes("inventory") || !svc.includes("customers"))),
    admission: admissionConfig(env, dbPoolMax),
    metrics: Object.freeze({ enabled: bool(env, "METRICS", true), public: bool(env, "METRICS_PUBLIC", false) }),
    retention: retentionConfig(env),
    events: eventsConfig(env, url(env, "REDIS_URL", ["redis:", "rediss:"])),
    tracing: tracingWanted(env),
  });
}
