/**
 * The only file that reads the environment. Every setting is parsed and
 * validated once; a bad value stops start-up with a message naming the
 * variable. README.md documents each one.
 */
export const SERVICE_NAMES = ["orders", "inventory", "customers"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface Config {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly services: readonly ServiceName[];
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly dbPoolMax: number;
  readonly migrateOnStart: boolean;
  readonly seedDemoData: boolean;
  readonly inventoryAddr: string | undefined;
  readonly customersAddr: string | undefined;
  readonly reservationTtlSeconds: number;
  readonly reservationSweepMs: number;
  readonly reconcileIntervalMs: number;
  readonly orderCacheSize: number;
  readonly maxReceiveMessageBytes: number;
  readonly defaultDeadlineMs: number;
  readonly deadlineMarginMs: number;
  readonly redisUrl: string | undefined;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
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

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
  }
  return raw;
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

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

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
  return Object.freeze({
    host: env.HOST || "0.0.0.0",
    grpcPort: int(env, "GRPC_PORT", 50051, 0, 65535),
    httpPort: int(env, "HTTP_PORT", 8080, 0, 65535),
    services: Object.freeze(svc),
    databaseUrl,
    dataDir: env.DATA_DIR || "./.data",
    dbPoolMax: int(env, "DB_POOL_MAX", 10, 1, 1000),
    migrateOnStart: bool(env, "MIGRATE_ON_START", true),
    seedDemoData: bool(env, "SEED_DEMO_DATA", databaseUrl === undefined),
    inventoryAddr,
    customersAddr,
    reservationTtlSeconds: int(env, "RESERVATION_TTL_SECONDS", 900, 1, 86400),
    reservationSweepMs: int(env, "RESERVATION_SWEEP_INTERVAL_MS", 5000, 100, 3600000),
    reconcileIntervalMs: int(env, "RECONCILE_INTERVAL_MS", 10000, 100, 3600000),
    orderCacheSize: int(env, "ORDER_CACHE_SIZE", 1000, 0, 1000000),
    maxReceiveMessageBytes: int(env, "MAX_RECEIVE_MESSAGE_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    defaultDeadlineMs: int(env, "DEFAULT_DEADLINE_MS", 5000, 10, 600000),
    deadlineMarginMs: int(env, "DEADLINE_MARGIN_MS", 50, 0, 10000),
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
    logLevel,
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 10000, 0, 600000),
  });
}
