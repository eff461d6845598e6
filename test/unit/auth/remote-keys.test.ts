/**
 * The remote key source (createRemoteKeys over jose's createRemoteJWKSet)
 * against a real node:http JWKS server on port 0: key rotation while running,
 * the pinned-alg rule on jose's pick, and the IdP down / erroring / slow /
 * serving junk -> AUTH_KEYS_UNAVAILABLE (UNAVAILABLE, not UNAUTHENTICATED).
 */
import { exportJWK, importJWK, type CryptoKey } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../../src/platform/auth/jwt-verifier.js";
import { createRemoteKeys, type RemoteKeysOptions } from "../../../src/platform/auth/keys.js";
import {
  AUDIENCE,
  ISSUER,
  expectDomainError,
  expectUnauthenticated,
  signToken,
  sleep,
  startJwksServer,
  testKey,
  type JwksServer,
  type TestKey,
} from "./support.js";

const COOLDOWN_MS = 50;
let keyA: TestKey, keyB: TestKey, rsa: TestKey;
const servers: JwksServer[] = [];

beforeAll(async () => {
  [keyA, keyB, rsa] = await Promise.all([testKey("ES256", "key-a"), testKey("EdDSA", "key-b"), testKey("RS256", "rsa")]);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serverWith(keys: TestKey[]): Promise<JwksServer> {
  const server = await startJwksServer();
  servers.push(server);
  server.serve({ keys: keys.map((k) => k.publicJwk) });
  return server;
}

function verifierFor(url: string, options: RemoteKeysOptions = {}, cacheSize = 100) {
  const keys = createRemoteKeys(url, { cooldownMs: COOLDOWN_MS, cacheMaxAgeMs: 60_000, timeoutMs: 2_000, ...options });
  return createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 30, cacheSize });
}

const unavailableKeys = (p: Promise<unknown>) => expectDomainError(p, "UNAVAILABLE", "AUTH_KEYS_UNAVAILABLE");

describe("remote JWKS", () => {
  it("follows a key rotation while running", async () => {
    const server = await serverWith([keyA]);
    const verifier = verifierFor(server.url);
    const tokenA = await signToken(keyA, { sub: "alice" });
    expect(await verifier.verify(tokenA)).toEqual({ role: "staff", id: "alice" });
    expect(server.requests).toBe(1);

    server.serve({ keys: [keyB.publicJwk] }); // A removed
    await sleep(COOLDOWN_MS + 20);
    expect(await verifier.verify(await signToken(keyB, { sub: "bob" }))).toEqual({ role: "staff", id: "bob" });
    expect(server.requests).toBe(2); // jose refetched on the unknown kid

    await expectUnauthenticated(verifier.verify(await signToken(keyA, { sub: "alice2" })), "TOKEN_KEY_UNKNOWN");
    await sleep(COOLDOWN_MS + 20); // after the cooldown jose refetches once more, A is still gone
    await expectUnauthenticated(verifier.verify(await signToken(keyA, { sub: "alice3" })), "TOKEN_KEY_UNKNOWN");
    expect(server.requests).toBeGreaterThanOrEqual(3);
    // Documented: an already-verified token stays valid from the cache until its exp.
    expect(await verifier.verify(tokenA)).toEqual({ role: "staff", id: "alice" });
  });

  it("holds jose's pick to the pinned alg: PS256 on an RSA JWK without alg is refused, RS256 passes", async () => {
    const server = await serverWith([rsa]);
    const verifier = verifierFor(server.url, {}, 0);
    const pss = (await importJWK(await exportJWK(rsa.privateKey), "PS256")) as CryptoKey;
    const e = await expectUnauthenticated(verifier.verify(await signToken({ alg: "PS256", kid: "rsa", privateKey: pss })), "TOKEN_INVALID");
    expect(e.message).toMatch(/does not match its key/);
    expect(await verifier.verify(await signToken(rsa))).toEqual({ role: "staff", id: "alice" });

    server.serve({ keys: [{ ...rsa.publicJwk, alg: "RS256" }] }); // with an alg jose itself refuses the PS256 token
    await sleep(COOLDOWN_MS + 20);
    await expectUnauthenticated(verifier.verify(await signToken({ alg: "PS256", kid: "rsa", privateKey: pss })), "TOKEN_INVALID");
  });

  it("a kid-less token resolves to the single key pinned to its alg", async () => {
    const server = await serverWith([keyA, keyB]);
    const verifier = verifierFor(server.url, {}, 0);
    expect(await verifier.verify(await signToken(keyB, {}, { kid: undefined }))).toEqual({ role: "staff", id: "alice" });
  });

  it("the endpoint returning 500 -> AUTH_KEYS_UNAVAILABLE", async () => {
    const server = await serverWith([keyA]);
    server.respond = { status: 500, body: "oops" };
    await unavailableKeys(verifierFor(server.url).verify(await signToken(keyA)));
  });

  it("the endpoint serving junk -> AUTH_KEYS_UNAVAILABLE", async () => {
    const server = await serverWith([keyA]);
    const verifier = verifierFor(server.url, {}, 0);
    server.respond = { status: 200, body: "<html>not json</html>" };
    await unavailableKeys(verifier.verify(await signToken(keyA)));
    server.respond = { status: 200, body: '{"keys": "nope"}' };
    await unavailableKeys(verifier.verify(await signToken(keyA)));
  });

  it("the endpoint down -> AUTH_KEYS_UNAVAILABLE", async () => {
    const server = await serverWith([keyA]);
    const url = server.url;
    await server.close();
    await unavailableKeys(verifierFor(url).verify(await signToken(keyA)));
  });

  it("the endpoint too slow -> AUTH_KEYS_UNAVAILABLE after timeoutMs", async () => {
    const server = await serverWith([keyA]);
    server.respond = "hang";
    const started = Date.now();
    await unavailableKeys(verifierFor(server.url, { timeoutMs: 150 }).verify(await signToken(keyA)));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("the IdP going down while running: known keys keep working, an unknown kid is UNAVAILABLE", async () => {
    const server = await serverWith([keyA]);
    const verifier = verifierFor(server.url, {}, 0);
    expect(await verifier.verify(await signToken(keyA))).toEqual({ role: "staff", id: "alice" });
    server.respond = { status: 503, body: "" };
    await sleep(COOLDOWN_MS + 20);
    expect(await verifier.verify(await signToken(keyA, { sub: "again" }))).toEqual({ role: "staff", id: "again" });
    await unavailableKeys(verifier.verify(await signToken(keyB)));
  });

  it("refuses a non-http(s) URL", () => {
    expect(() => createRemoteKeys("file:///etc/jwks.json")).toThrow(/http\(s\)/);
  });
});
