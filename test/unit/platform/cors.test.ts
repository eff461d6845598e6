/**
 * CORS_ORIGINS (config.ts) and the origin matching of cors.ts: the default
 * follows the development keys, entries are normalised as browsers send
 * origins, and anything that is not an origin stops start-up naming the
 * variable. The wire behaviour is test/e2e/cors.test.ts.
 */
import { describe, expect, it } from "vitest";
import { DEV_CORS_ORIGINS, loadConfig } from "../../../src/config.js";
import { originMatcher } from "../../../src/platform/cors.js";

const PG = "postgres://u@localhost/db";

describe("CORS_ORIGINS", () => {
  it("defaults to localhost on any port while development keys are trusted, else to none", () => {
    expect(loadConfig({}).cors.origins).toEqual(DEV_CORS_ORIGINS); // zero setup: PGlite, the generated key
    expect(loadConfig({ DATABASE_URL: PG, AUTH_DEV_KEYS: "true" }).cors.origins).toEqual(DEV_CORS_ORIGINS); // the compose stack
    expect(loadConfig({ AUTH_PUBLIC_KEYS: "keys.json" }).cors.origins).toEqual([]);
    expect(loadConfig({ DATABASE_URL: PG, AUTH_JWKS_URL: "https://idp.example/jwks" }).cors.origins).toEqual([]);
    expect(loadConfig({ AUTH_DEV_KEYS: "false", AUTH_PUBLIC_KEYS: "k.pem" }).cors.origins).toEqual([]);
  });

  it("takes a list, normalised as a browser sends an Origin; empty means none, even in development", () => {
    expect(loadConfig({ CORS_ORIGINS: " HTTPS://Shop.Example:443/ , http://localhost:5173,https://shop.example" }).cors.origins).toEqual([
      "https://shop.example",
      "http://localhost:5173",
    ]);
    expect(loadConfig({ CORS_ORIGINS: "http://LOCALHOST:*,http://[::1]:*,*" }).cors.origins).toEqual(["http://localhost:*", "http://[::1]:*", "*"]);
    expect(loadConfig({ CORS_ORIGINS: "" }).cors.origins).toEqual([]);
    expect(Object.isFrozen(loadConfig({}).cors.origins)).toBe(true);
  });

  it("refuses what is not an origin, naming the variable and the entry", () => {
    for (const bad of ["shop.example", "ftp://shop.example", "https://shop.example/app", "https://shop.example?x=1", "https://u:p@shop.example", "https://*.shop.example", "http://localhost:80:*", "null"]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(new RegExp(`CORS_ORIGINS entries must be origins .* got "${bad.replace(/[.*?+[\]()]/g, "\\$&")}"`));
    }
  });
});

describe("originMatcher", () => {
  it("matches exact origins, a host on any port, or anything", () => {
    const m = originMatcher(["https://shop.example", "http://localhost:*", "http://[::1]:*"]);
    expect(m("https://shop.example")).toBe(true);
    expect(m("https://shop.example:8443")).toBe(false);
    expect(m("http://shop.example")).toBe(false);
    expect(m("http://localhost:5173")).toBe(true);
    expect(m("http://localhost")).toBe(true);
    expect(m("https://localhost:5173")).toBe(false);
    expect(m("http://localhost.evil.example:5173")).toBe(false);
    expect(m("http://[::1]:3000")).toBe(true);
    expect(m("null")).toBe(false);
    expect(originMatcher([])("https://shop.example")).toBe(false);
    expect(originMatcher(["*"])("https://anything.example")).toBe(true);
  });
});
