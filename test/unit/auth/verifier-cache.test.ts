/**
 * The verifier's cache: a hit never reaches jose (proved by swapping the key
 * source for one that would fail), entries last until exp with the clock skew
 * (injected clock), the cache is bounded, failures are not cached, concurrent
 * checks of one token share a verification, and a hit is cheap.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../../src/platform/auth/jwt-verifier.js";
import { createLocalKeys, type LocalKeys } from "../../../src/platform/auth/keys.js";
import { AUDIENCE, ISSUER, expectUnauthenticated, signToken, switchableSource, testKey, type TestKey } from "./support.js";

const SKEW = 5;
let key: TestKey;
let trusted: LocalKeys;
let untrusting: LocalKeys;

beforeAll(async () => {
  key = await testKey("ES256", "cache-1");
  trusted = await createLocalKeys([key.publicJwk]);
  untrusting = await createLocalKeys([(await testKey("ES256", "other")).publicJwk]);
});

function setup(cacheSize: number, start = Date.now()) {
  const counted = switchableSource(trusted);
  const clock = { ms: start };
  const verifier = createTokenVerifier({
    keys: counted.source,
    issuer: ISSUER,
    audience: AUDIENCE,
    clockSkewSeconds: SKEW,
    cacheSize,
    now: () => clock.ms,
  });
  return { counted, clock, verifier };
}

const tokenFor = (sub: string, expSeconds: number) => signToken(key, { sub, iat: expSeconds - 60, exp: expSeconds });

describe("verified-token cache", () => {
  it("a second verify does not call jose; the entry lasts until exp (+ skew), then TOKEN_EXPIRED", async () => {
    const { counted, clock, verifier } = setup(100);
    const exp = Math.floor(clock.ms / 1000) + 60;
    const token = await tokenFor("alice", exp);
    expect(await verifier.verify(token)).toEqual({ role: "staff", id: "alice" });
    expect(counted.calls).toBe(1);

    counted.use(untrusting); // jose would now fail: the token's kid is unknown
    await expectUnauthenticated(verifier.verify(await tokenFor("bob", exp)), "TOKEN_KEY_UNKNOWN");
    const calls = counted.calls;
    expect(await verifier.verify(token)).toEqual({ role: "staff", id: "alice" });

    clock.ms = (exp + SKEW - 1) * 1000; // past exp, within the skew: jose would accept it too
    expect(await verifier.verify(token)).toEqual({ role: "staff", id: "alice" });
    clock.ms = (exp + SKEW) * 1000; // exp <= now - skew: expired, as jose counts it
    await expectUnauthenticated(verifier.verify(token), "TOKEN_EXPIRED");
    await expectUnauthenticated(verifier.verify(token), "TOKEN_EXPIRED");
    expect(counted.calls).toBe(calls);
  });

  it("is bounded (two generations): with size 2 a third token evicts the least recently used", async () => {
    const { counted, clock, verifier } = setup(2);
    const exp = Math.floor(clock.ms / 1000) + 300;
    const [t1, t2, t3] = await Promise.all(["one", "two", "three"].map((sub) => tokenFor(sub, exp)));
    await verifier.verify(t1);
    await verifier.verify(t2);
    await verifier.verify(t1); // hit: t1 is now the most recent, t2 the least
    expect(counted.calls).toBe(2);
    await verifier.verify(t3); // evicts t2
    expect(counted.calls).toBe(3);

    counted.use(untrusting);
    expect(await verifier.verify(t1)).toEqual({ role: "staff", id: "one" });
    expect(await verifier.verify(t3)).toEqual({ role: "staff", id: "three" });
    expect(counted.calls).toBe(3);
    await expectUnauthenticated(verifier.verify(t2), "TOKEN_KEY_UNKNOWN");
    expect(counted.calls).toBe(4);
  });

  it("keeps a token used often while many others pass through", async () => {
    const { counted, clock, verifier } = setup(4);
    const exp = Math.floor(clock.ms / 1000) + 300;
    const hot = await tokenFor("hot", exp);
    await verifier.verify(hot);
    for (let i = 0; i < 20; i++) {
      await verifier.verify(await tokenFor(`passing-${i}`, exp));
      expect(await verifier.verify(hot)).toEqual({ role: "staff", id: "hot" });
    }
    expect(counted.calls).toBe(21); // the hot token was verified once
  });

  it("verifyCached answers from the cache only, synchronously, with verify's answers", async () => {
    const { counted, clock, verifier } = setup(100);
    const exp = Math.floor(clock.ms / 1000) + 60;
    const token = await tokenFor("grace", exp);
    expect(verifier.verifyCached(token)).toBeUndefined();
    expect(counted.calls).toBe(0);
    await verifier.verify(token);
    expect(verifier.verifyCached(token)).toEqual({ role: "staff", id: "grace" });
    clock.ms = (exp + SKEW) * 1000;
    expect(verifier.verifyCached(token)).toMatchObject({ reason: "TOKEN_EXPIRED" });
    expect(verifier.verifyCached("x".repeat(9000))).toMatchObject({ reason: "TOKEN_INVALID" });
    expect(counted.calls).toBe(1);
  });

  it("does not cache failures", async () => {
    const { counted, clock, verifier } = setup(100);
    const token = await tokenFor("carol", Math.floor(clock.ms / 1000) + 300);
    counted.use(untrusting);
    await expectUnauthenticated(verifier.verify(token), "TOKEN_KEY_UNKNOWN");
    counted.use(trusted);
    expect(await verifier.verify(token)).toEqual({ role: "staff", id: "carol" });
    expect(counted.calls).toBe(2);
  });

  it("cacheSize 0 verifies every time", async () => {
    const { counted, clock, verifier } = setup(0);
    const token = await tokenFor("dave", Math.floor(clock.ms / 1000) + 300);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(counted.calls).toBe(2);
  });

  it("concurrent verifications of one new token share one", async () => {
    const { counted, clock, verifier } = setup(100);
    const token = await tokenFor("erin", Math.floor(clock.ms / 1000) + 300);
    const results = await Promise.all([verifier.verify(token), verifier.verify(token), verifier.verify(token)]);
    expect(results).toEqual(Array(3).fill({ role: "staff", id: "erin" }));
    expect(counted.calls).toBe(1);
  });

  it("a hit is a lookup, never a signature check (its cost is measured in npm run bench)", async () => {
    const { counted, clock, verifier } = setup(100);
    const token = await tokenFor("frank", Math.floor(clock.ms / 1000) + 300);
    for (let i = 0; i < 1000; i++) await verifier.verify(token);
    expect(counted.calls).toBe(1);
  });
});
