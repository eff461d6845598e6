import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadEventsCliConfig, redactUrl } from "../../../src/config.js";

describe("loadConfig", () => {
  it("has documented defaults: all services, PGlite, demo data", () => {
    const c = loadConfig({});
    expect(c.grpcPort).toBe(50051);
    expect(c.httpPort).toBe(8080);
    expect(c.services).toEqual(["orders", "inventory", "customers"]);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe("./.data");
    expect(c.seedDemoData).toBe(true);
    expect(c.maxReceiveMessageBytes).toBe(1024 * 1024);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("bounds the wait for a pooled connection: 1 s by default, a positive integer up to a minute", () => {
    expect(loadConfig({}).dbPoolWaitMs).toBe(1000);
    expect(loadConfig({ DB_POOL_WAIT_MS: "250" }).dbPoolWaitMs).toBe(250);
    for (const bad of ["0", "-1", "1.5", "60001", "soon"]) {
      expect(() => loadConfig({ DB_POOL_WAIT_MS: bad })).toThrow(/DB_POOL_WAIT_MS must be an integer from 1 to 60000/);
    }
  });

  it("bounds WatchOrder by default and refuses a limit of 0 or a lifetime under a second", () => {
    expect(loadConfig({})).toMatchObject({ watchMaxPerPrincipal: 16, watchMaxTotal: 10000, watchMaxLifetimeMs: 1_800_000, watchPollMs: 5000 });
    expect(() => loadConfig({ WATCH_MAX_PER_PRINCIPAL: "0" })).toThrow(/WATCH_MAX_PER_PRINCIPAL/);
    expect(() => loadConfig({ WATCH_MAX_TOTAL: "many" })).toThrow(/WATCH_MAX_TOTAL/);
    expect(() => loadConfig({ WATCH_MAX_LIFETIME_MS: "999" })).toThrow(/WATCH_MAX_LIFETIME_MS/);
    expect(loadConfig({ WATCH_MAX_LIFETIME_MS: "60000" }).watchMaxLifetimeMs).toBe(60000);
  });

  it("derives admission's defaults from the pool and validates its settings", () => {
    expect(loadConfig({}).admission).toEqual({ maxConcurrent: 40, maxQueue: 400, tierCacheSize: 10000, tierCacheTtlMs: 60000, bulkPageSize: 100 });
    expect(loadConfig({ DB_POOL_MAX: "4" }).admission).toMatchObject({ maxConcurrent: 16, maxQueue: 160 });
    expect(loadConfig({ ADMISSION_MAX_CONCURRENT: "0" }).admission.maxConcurrent).toBe(0);
    expect(() => loadConfig({ ADMISSION_MAX_CONCURRENT: "-1" })).toThrow(/ADMISSION_MAX_CONCURRENT/);
    expect(() => loadConfig({ BULK_PAGE_SIZE: "0" })).toThrow(/BULK_PAGE_SIZE/);
    expect(() => loadConfig({ TIER_CACHE_TTL_MS: "soon" })).toThrow(/TIER_CACHE_TTL_MS/);
  });

  it("does not seed demo data into a real database unless asked", () => {
    const pg = { DATABASE_URL: "postgres://x@h/db", AUTH_DEV_KEYS: "true" };
    expect(loadConfig(pg).seedDemoData).toBe(false);
    expect(loadConfig({ ...pg, SEED_DEMO_DATA: "true" }).seedDemoData).toBe(true);
  });

  it("trusts a development key on the embedded database, and on a real one only when told to", () => {
    expect(loadConfig({}).auth).toMatchObject({ devKeys: true, issuer: "order-service", audience: "order-service", disabled: false });
    const pg = { DATABASE_URL: "postgres://x@h/db" };
    expect(() => loadConfig(pg)).toThrow(/AUTH_JWKS_URL.*AUTH_PUBLIC_KEYS.*AUTH_DEV_KEYS=true/);
    expect(loadConfig({ ...pg, AUTH_DEV_KEYS: "true" }).auth.devKeys).toBe(true);
    const withKeys = loadConfig({ ...pg, AUTH_PUBLIC_KEYS: "/keys/a.json, /keys/b.pem" }).auth;
    expect(withKeys).toMatchObject({ devKeys: false, publicKeyFiles: ["/keys/a.json", "/keys/b.pem"] });
    expect(loadConfig({ AUTH_JWKS_URL: "https://idp.example/jwks" }).auth.devKeys).toBe(false);
  });

  it("needs a service identity when orders calls the others over the network", () => {
    const apart = {
      SERVICES: "orders",
      INVENTORY_ADDR: "http://inv:50051",
      CUSTOMERS_ADDR: "http://cust:50051",
      DATABASE_URL: "postgres://x@h/db",
      AUTH_PUBLIC_KEYS: "/keys/a.json",
    };
    expect(() => loadConfig(apart)).toThrow(/AUTH_SERVICE_KEY.*AUTH_SERVICE_TOKEN/);
    expect(loadConfig({ ...apart, AUTH_SERVICE_KEY: "/keys/orders.pem" }).auth.serviceKeyFile).toBe("/keys/orders.pem");
  });

  it("never prints a password or query of a URL it refuses", () => {
    const secret = "postgres-secret-pw";
    for (const env of [{ DATABASE_URL: `mysql://app:${secret}@db/x` }, { DATABASE_URL: `postgres://app:${secret}@db/x`, AUTH_DEV_KEYS: "maybe" }]) {
      let message = "";
      try {
        loadConfig(env);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(secret);
    }
    expect(redactUrl(`postgres://app:${secret}@db:5432/x?sslpassword=${secret}`)).toBe("postgres://app:***@db:5432/x?%E2%80%A6");
  });

  it.each([
    [{ GRPC_PORT: "http" }, /GRPC_PORT/],
    [{ HTTP_PORT: "70000" }, /HTTP_PORT/],
    [{ SERVICES: "orders,billing" }, /SERVICES.*billing/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL/],
    [{ MIGRATE_ON_START: "maybe" }, /MIGRATE_ON_START/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL/],
    [{ SERVICES: "orders" }, /INVENTORY_ADDR/],
    [{ SERVICES: "orders,inventory" }, /CUSTOMERS_ADDR/],
  ])("rejects %o naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("hosts a subset that reaches the others by address", () => {
    const c = loadConfig({ SERVICES: "orders", INVENTORY_ADDR: "http://inv:50051", CUSTOMERS_ADDR: "http://cust:50051" });
    expect(c.services).toEqual(["orders"]);
    expect(c.inventoryAddr).toBe("http://inv:50051");
  });
});

describe("events settings", () => {
  it("publish to Redis when REDIS_URL is set, to NATS when only NATS_URL is, else nowhere", () => {
    expect(loadConfig({}).events.broker).toBe("none");
    expect(loadConfig({ REDIS_URL: "redis://r:6379" }).events).toMatchObject({ broker: "redis", redisUrl: "redis://r:6379", redisPrefix: "events:" });
    expect(loadConfig({ NATS_URL: "nats://a:4222,nats://b:4222" }).events).toMatchObject({ broker: "nats", natsUrl: "nats://a:4222,nats://b:4222", natsReplicas: 1 });
    expect(loadConfig({ REDIS_URL: "redis://r:6379", EVENTS_BROKER: "none" }).events.broker).toBe("none");
    expect(loadConfig({}).events).toMatchObject({ batchSize: 200, pollMs: 500, maxAttempts: 5, source: "order-service" });
  });

  it("refuse a broker without its address, an unknown broker, and a URL of another scheme", () => {
    expect(() => loadConfig({ EVENTS_BROKER: "redis" })).toThrow(new ConfigError("EVENTS_BROKER=redis needs REDIS_URL"));
    expect(() => loadConfig({ EVENTS_BROKER: "nats" })).toThrow(/NATS_URL/);
    expect(() => loadConfig({ EVENTS_BROKER: "kafka" })).toThrow(/EVENTS_BROKER must be redis, nats or none/);
    expect(() => loadConfig({ NATS_URL: "http://a:4222" })).toThrow(/NATS_URL must use nats:\/\/ or tls:\/\//);
  });

  it("are read for npm run events without the rest of the service's settings", () => {
    // A real database and no token keys: the service would refuse to start; the CLI needs neither.
    const env = { DATABASE_URL: "postgres://u@db/x", REDIS_URL: "redis://r:6379", HTTP_PORT: "9090" };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(loadEventsCliConfig(env)).toMatchObject({ httpPort: 9090, events: { broker: "redis" } });
  });
});
