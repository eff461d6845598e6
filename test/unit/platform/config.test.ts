import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config.js";

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

  it("does not seed demo data into a real database unless asked", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://x@h/db" }).seedDemoData).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgres://x@h/db", SEED_DEMO_DATA: "true" }).seedDemoData).toBe(true);
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
