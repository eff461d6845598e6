import pino from "pino";
import { describe, expect, it } from "vitest";
import { createHealthRegistry, ServingStatus, startHealthMonitor } from "../../../src/platform/health.js";

const logger = pino({ level: "silent" });

describe("health", () => {
  it("turns NOT_SERVING while the database is unreachable and SERVING when it is back", async () => {
    const health = createHealthRegistry(["orders.v1.OrderService"]);
    let up = true;
    const monitor = startHealthMonitor(health, async () => {
      if (!up) throw new Error("connection refused");
    }, 1000, logger);
    await monitor.checkNow();
    expect(health.status("")).toBe(ServingStatus.SERVING);
    expect(health.status("orders.v1.OrderService")).toBe(ServingStatus.SERVING);
    up = false;
    await monitor.checkNow();
    expect(health.status("")).toBe(ServingStatus.NOT_SERVING);
    expect(health.status("orders.v1.OrderService")).toBe(ServingStatus.NOT_SERVING);
    up = true;
    await monitor.checkNow();
    expect(health.status("orders.v1.OrderService")).toBe(ServingStatus.SERVING);
    monitor.stop();
  });

  it("counts a hanging ping as unreachable", async () => {
    const health = createHealthRegistry([]);
    const monitor = startHealthMonitor(health, () => new Promise(() => {}), 50, logger);
    await monitor.checkNow();
    expect(health.status("")).toBe(ServingStatus.NOT_SERVING);
    monitor.stop();
  });

  it("streams status changes to Watch until the call ends", async () => {
    const health = createHealthRegistry(["svc"]);
    const abort = new AbortController();
    const stream = health.impl.watch({ service: "svc" } as never, { signal: abort.signal } as never)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toEqual({ status: ServingStatus.NOT_SERVING });
    health.setAll(ServingStatus.SERVING);
    expect((await stream.next()).value).toEqual({ status: ServingStatus.SERVING });
    abort.abort();
    expect((await stream.next()).done).toBe(true);
  });
});
