/**
 * WORKERS (README "Every core"): its default on each database, what is
 * refused, and the primary's restart backoff. The cluster itself is proven
 * on real processes in test/e2e/workers.test.ts.
 */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { banner } from "../../../src/banner.js";
import { ConfigError, loadConfig, MAX_WORKERS } from "../../../src/config.js";
import type { Auth } from "../../../src/platform/auth/setup.js";
import { restartDelayMs } from "../../../src/platform/workers.js";

const PG = { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", AUTH_PUBLIC_KEYS: "/dev/null" };
const noDevKey = { devSigner: undefined, devKeys: undefined } as unknown as Auth;

describe("WORKERS", () => {
  it("defaults to the available cores on Postgres and to 1 on the embedded database", () => {
    expect(loadConfig(PG).workers).toBe(Math.min(MAX_WORKERS, os.availableParallelism()));
    expect(loadConfig({}).workers).toBe(1);
  });

  it("takes an explicit count on Postgres", () => {
    expect(loadConfig({ ...PG, WORKERS: "3" }).workers).toBe(3);
    expect(loadConfig({ ...PG, WORKERS: "1" }).workers).toBe(1);
    expect(loadConfig({ WORKERS: "1" }).workers).toBe(1);
  });

  it("refuses more than one worker on the embedded database, saying why", () => {
    expect(() => loadConfig({ WORKERS: "2" })).toThrow(ConfigError);
    expect(() => loadConfig({ WORKERS: "2" })).toThrow(/WORKERS=2 needs DATABASE_URL: the embedded database \(PGlite\) has a single writer/);
  });

  it.each(["0", "-1", "1.5", "two", String(MAX_WORKERS + 1)])("refuses WORKERS=%s, naming the variable", (raw) => {
    expect(() => loadConfig({ ...PG, WORKERS: raw })).toThrow(new ConfigError(`WORKERS must be an integer from 1 to ${MAX_WORKERS}, got "${raw}"`));
  });

  it("is named in the banner only when there is more than one", async () => {
    const ports = { grpcPort: 1, httpPort: 2 };
    expect(await banner(loadConfig({ ...PG, WORKERS: "2" }), noDevKey, ports)).toContain("Workers:         2 processes share both ports");
    expect(await banner(loadConfig({ ...PG, WORKERS: "1" }), noDevKey, ports)).not.toContain("Workers:");
  });
});

describe("restartDelayMs", () => {
  it("doubles from 250 ms per crash in a row, up to 30 s", () => {
    expect([1, 2, 3, 4, 5].map(restartDelayMs)).toEqual([250, 500, 1000, 2000, 4000]);
    expect(restartDelayMs(8)).toBe(30_000);
    expect(restartDelayMs(50)).toBe(30_000);
  });
});
