/**
 * The browser console's pure parts: who counts as "this machine" for demo
 * identities, when a server offers them at all (src/demo-identities.ts), and
 * where the built console is found from src/ and from dist/. Serving over
 * HTTP, and the console in a browser, are test/e2e/browser-console.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createDemoIdentities, demoIdentitiesRefusal } from "../../../src/demo-identities.js";
import type { Auth } from "../../../src/platform/auth/setup.js";
import type { TokenSigner } from "../../../src/platform/auth/token-signer.js";
import { defaultConsoleDir, isLoopbackAddress, isLoopbackHost, mayReceiveDemoTokens } from "../../../src/platform/web-console.js";

describe("this machine", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["10.0.0.7", false],
    ["::ffff:192.168.1.2", false],
    ["1127.0.0.1", false],
    ["fe80::1", false],
    [undefined, false],
  ])("peer %s: %s", (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it.each([
    ["localhost:8080", true],
    ["LOCALHOST", true],
    ["127.0.0.1:8080", true],
    ["[::1]:8080", true],
    ["console.localhost:3000", true],
    ["evil.example:8080", false],
    ["localhost.evil.example:8080", false],
    ["127.0.0.1.nip.io:8080", false],
    ["[::2]:8080", false],
    ["192.168.1.10:8080", false],
    ["", false],
    [undefined, false],
  ])("Host %s: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe("who may receive demo tokens", () => {
  const request = (remoteAddress: string, headers: Record<string, string>) => ({ headers, socket: { remoteAddress } }) as never;

  it.each([
    ["the console's page", "127.0.0.1", { host: "127.0.0.1:8080", "sec-fetch-site": "same-origin" }, true],
    ["curl on this machine", "::1", { host: "localhost:8080" }, true],
    ["a browser tab opened on the URL", "127.0.0.1", { host: "localhost:8080", "sec-fetch-site": "none" }, true],
    ["a same-origin request naming its origin", "127.0.0.1", { host: "localhost:8080", origin: "http://localhost:8080" }, true],
    ["another machine", "192.168.1.20", { host: "192.168.1.10:8080" }, false],
    ["another machine naming localhost", "192.168.1.20", { host: "localhost:8080" }, false],
    ["a rebound name", "127.0.0.1", { host: "evil.example:8080" }, false],
    ["another origin's page (CORS allowed)", "127.0.0.1", { host: "localhost:8080", origin: "https://evil.example" }, false],
    ["another site's page", "127.0.0.1", { host: "localhost:8080", "sec-fetch-site": "cross-site" }, false],
    ["another port of this machine", "127.0.0.1", { host: "localhost:8080", "sec-fetch-site": "same-site", origin: "http://localhost:3000" }, false],
  ])("%s: %s", (_what, address, headers, allowed) => {
    expect(mayReceiveDemoTokens(request(address, headers))).toBe(allowed);
  });
});

describe("demo identities are offered only on the zero-setup default", () => {
  const signer: TokenSigner = { sign: async (p, ttl) => `token-for-${p.role}:${p.id}-${ttl}-${Math.random()}` };
  const authOf = (env: Record<string, string>) => ({ devSigner: loadConfig(env).auth.devKeys ? signer : undefined });

  it.each([
    [{}, undefined],
    [{ AUTH_PUBLIC_KEYS: "/keys/jwks.json" }, "the development key is not in use"],
    [{ AUTH_PUBLIC_KEYS: "/keys/jwks.json", AUTH_DEV_KEYS: "true" }, "token keys are configured (AUTH_JWKS_URL or AUTH_PUBLIC_KEYS)"],
    [{ AUTH_JWKS_URL: "https://idp.example.com/jwks.json", AUTH_DEV_KEYS: "true" }, "token keys are configured (AUTH_JWKS_URL or AUTH_PUBLIC_KEYS)"],
    [{ DATABASE_URL: "postgres://db/orders", AUTH_DEV_KEYS: "true" }, "the service runs on a configured database (DATABASE_URL)"],
    [{ AUTH_ISSUER: "https://idp.example.com/" }, "AUTH_ISSUER or AUTH_AUDIENCE is configured"],
    [{ AUTH_AUDIENCE: "shop" }, "AUTH_ISSUER or AUTH_AUDIENCE is configured"],
    [{ AUTH_DEV_KEYS: "false", AUTH_DISABLED: "true" }, "AUTH_DISABLED is set"],
    [{ AUTH_DISABLED: "true" }, "AUTH_DISABLED is set"],
  ])("%j: %s", (env, refusal) => {
    expect(demoIdentitiesRefusal(loadConfig(env), authOf(env))).toBe(refusal);
  });

  it("gives the VIP customer, the standard one and staff — never an admin — and the same tokens until half their life is gone", async () => {
    const config = loadConfig({});
    const demo = createDemoIdentities(config, { devSigner: signer } as Auth)!;
    const first = await demo.issue();
    expect(first.map((i) => [i.key, i.role, i.description])).toEqual([
      ["grace", "customer", "VIP customer"],
      ["ada", "customer", "STANDARD customer"],
      ["staff", "staff", "staff"],
    ]);
    expect(first[0].token).toMatch(/^token-for-customer:22222222-2222-4222-8222-222222222222-3600-/);
    expect(await demo.issue()).toBe(first);

    const unseeded = createDemoIdentities({ ...config, seedDemoData: false }, { devSigner: signer } as Auth)!;
    expect((await unseeded.issue()).map((i) => i.key)).toEqual(["staff"]);
    expect(createDemoIdentities(loadConfig({ AUTH_ISSUER: "https://idp.example.com/" }), { devSigner: signer } as Auth)).toBeUndefined();
  });
});

describe("where the built console is found", () => {
  const root = mkdtempSync(join(tmpdir(), "console-dir-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "package.json"), "{}");
  const fromSrc = join(root, "src", "platform", "web-console.ts");
  const fromDist = join(root, "dist", "src", "platform", "web-console.js");

  it("is dist/web of the package, from src/ under tsx and from a build in dist/ alike", () => {
    expect(defaultConsoleDir(fromSrc)).toBe(join(root, "dist", "web")); // not built yet: where it would be
    mkdirSync(join(root, "dist", "web"), { recursive: true });
    writeFileSync(join(root, "dist", "web", "index.html"), "<!doctype html>");
    writeFileSync(join(root, "dist", "package.json"), '{"type":"module"}'); // a package.json inside dist/ changes nothing
    expect(defaultConsoleDir(fromSrc)).toBe(join(root, "dist", "web"));
    expect(defaultConsoleDir(fromDist)).toBe(join(root, "dist", "web"));
  });
});
