/**
 * The required JWT suite against createTokenVerifier over local keys: valid
 * tokens per role, time checks with clock skew, algorithm attacks (none,
 * HS256 with the public key as secret, pinned-alg mismatch), foreign and
 * unknown keys, issuer/audience/claims, and garbage, each asserting the
 * DomainError kind and reason (and that messages never contain the token).
 */
import { randomBytes } from "node:crypto";
import { exportSPKI, importJWK, exportJWK, type CryptoKey } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier, MAX_TOKEN_LENGTH, type TokenVerifier } from "../../../src/platform/auth/jwt-verifier.js";
import { createLocalKeys } from "../../../src/platform/auth/keys.js";
import {
  AUDIENCE,
  CUSTOMER_ID,
  ISSUER,
  expectUnauthenticated,
  handBuiltToken,
  nowSeconds,
  signToken,
  switchableSource,
  testKey,
  type TestKey,
} from "./support.js";

const SKEW = 30;
let rsa: TestKey, ec: TestKey, ed: TestKey;
let counted: ReturnType<typeof switchableSource>;
let verifier: TokenVerifier;

beforeAll(async () => {
  [rsa, ec, ed] = await Promise.all([testKey("RS256", "rsa-1"), testKey("ES256", "ec-1"), testKey("EdDSA", "ed-1")]);
  const keys = await createLocalKeys([rsa.publicJwk, ec.publicJwk, ed.publicJwk], "test keys");
  counted = switchableSource(keys);
  // cacheSize 0: every case here goes through jose.
  verifier = createTokenVerifier({ keys: counted.source, issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: SKEW, cacheSize: 0 });
});

describe("valid tokens", () => {
  it("customer (ES256) -> customer principal", async () => {
    const token = await signToken(ec, { role: "customer", sub: `customer:${CUSTOMER_ID}`, customer_id: CUSTOMER_ID });
    expect(await verifier.verify(token)).toEqual({ role: "customer", id: CUSTOMER_ID });
  });

  it("customer_id in upper case is lower-cased", async () => {
    const token = await signToken(rsa, { role: "customer", sub: undefined, customer_id: CUSTOMER_ID.toUpperCase() });
    expect(await verifier.verify(token)).toEqual({ role: "customer", id: CUSTOMER_ID });
  });

  it("staff (RS256), admin (EdDSA), service (ES256)", async () => {
    expect(await verifier.verify(await signToken(rsa, { role: "staff", sub: "alice" }))).toEqual({ role: "staff", id: "alice" });
    expect(await verifier.verify(await signToken(ed, { role: "admin", sub: "root" }))).toEqual({ role: "admin", id: "root" });
    expect(await verifier.verify(await signToken(ec, { role: "service", sub: "warehouse" }))).toEqual({
      role: "service",
      id: "warehouse",
    });
  });

  it("without a kid, the single key pinned to the token's alg", async () => {
    const token = await signToken(ed, { role: "admin", sub: "root" }, { kid: undefined });
    expect(await verifier.verify(token)).toEqual({ role: "admin", id: "root" });
  });
});

describe("time", () => {
  it("expired beyond the skew -> TOKEN_EXPIRED", async () => {
    const token = await signToken(ec, { iat: nowSeconds() - 600, exp: nowSeconds() - SKEW - 5 });
    await expectUnauthenticated(verifier.verify(token), "TOKEN_EXPIRED");
  });

  it("expired within the skew -> still valid", async () => {
    const token = await signToken(ec, { iat: nowSeconds() - 600, exp: nowSeconds() - SKEW + 10 });
    expect(await verifier.verify(token)).toEqual({ role: "staff", id: "alice" });
  });

  it("nbf in the future beyond the skew -> TOKEN_NOT_YET_VALID; within it -> valid", async () => {
    const early = await signToken(ec, { nbf: nowSeconds() + SKEW + 60, exp: nowSeconds() + 600 });
    await expectUnauthenticated(verifier.verify(early), "TOKEN_NOT_YET_VALID");
    const almost = await signToken(ec, { nbf: nowSeconds() + SKEW - 10 });
    expect(await verifier.verify(almost)).toEqual({ role: "staff", id: "alice" });
  });

  it("missing exp -> TOKEN_CLAIMS_INVALID (a claims problem: the token itself is well-formed and signed)", async () => {
    await expectUnauthenticated(verifier.verify(await signToken(ec, { exp: undefined })), "TOKEN_CLAIMS_INVALID");
    await expectUnauthenticated(verifier.verify(await signToken(ec, { exp: "tomorrow" })), "TOKEN_CLAIMS_INVALID");
  });
});

describe("algorithms and keys", () => {
  const claims = () => ({ iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300, role: "admin", sub: "mallory" });

  it("alg none (hand-built, unsigned) -> TOKEN_INVALID", async () => {
    for (const header of [{ alg: "none", typ: "JWT" }, { alg: "none", kid: "rsa-1" }, { alg: "NONE" }]) {
      await expectUnauthenticated(verifier.verify(handBuiltToken(header, claims())), "TOKEN_INVALID");
    }
  });

  it("HS256 with the RSA / EC public key's bytes as the HMAC secret -> TOKEN_INVALID", async () => {
    for (const key of [rsa, ec]) {
      const secrets = [
        new TextEncoder().encode(await exportSPKI(key.publicKey)),
        new TextEncoder().encode(JSON.stringify(key.publicJwk)),
      ];
      for (const secret of secrets) {
        const token = await signToken({ alg: "HS256", kid: key.kid, privateKey: secret }, { role: "admin", sub: "mallory" });
        const e = await expectUnauthenticated(verifier.verify(token), "TOKEN_INVALID");
        expect(e.message).toMatch(/not allowed/);
      }
    }
  });

  it("signed by a key we do not trust, with a kid we know -> TOKEN_INVALID (signature)", async () => {
    const impostor = await testKey("ES256", "ec-1");
    const e = await expectUnauthenticated(verifier.verify(await signToken(impostor, { role: "admin", sub: "mallory" })), "TOKEN_INVALID");
    expect(e.message).toMatch(/signature/);
  });

  it("a kid we do not know -> TOKEN_KEY_UNKNOWN", async () => {
    const stranger = await testKey("ES256", "ec-2");
    await expectUnauthenticated(verifier.verify(await signToken(stranger)), "TOKEN_KEY_UNKNOWN");
  });

  it("a PS256 token for the key pinned RS256 (same RSA key) -> TOKEN_INVALID", async () => {
    const privateJwk = await exportJWK(rsa.privateKey);
    const pss = (await importJWK(privateJwk, "PS256")) as CryptoKey;
    const token = await signToken({ alg: "PS256", kid: "rsa-1", privateKey: pss });
    const e = await expectUnauthenticated(verifier.verify(token), "TOKEN_INVALID");
    expect(e.message).toMatch(/does not match its key/);
  });

  it("an ES256 token claiming an EdDSA key's kid -> TOKEN_INVALID", async () => {
    await expectUnauthenticated(verifier.verify(await signToken(ec, {}, { kid: "ed-1" })), "TOKEN_INVALID");
  });

  it("no kid and no key pinned to the alg -> TOKEN_KEY_UNKNOWN", async () => {
    const ps = await testKey("PS256", "ps-1");
    await expectUnauthenticated(verifier.verify(await signToken(ps, {}, { kid: undefined })), "TOKEN_KEY_UNKNOWN");
  });
});

describe("claims", () => {
  it.each<[string, Record<string, unknown>]>([
    ["wrong issuer", { iss: "https://evil.example.test" }],
    ["no issuer", { iss: undefined }],
    ["wrong audience", { aud: "billing-service" }],
    ["no audience", { aud: undefined }],
    ["a bad role", { role: "superuser" }],
    ["a customer without a UUID customer_id", { role: "customer", customer_id: "12345" }],
    ["a customer without customer_id", { role: "customer", sub: `customer:${CUSTOMER_ID}` }],
    ["a service with a bad name", { role: "service", sub: "Order_Service!" }],
  ])("%s -> TOKEN_CLAIMS_INVALID", async (_label, claims) => {
    await expectUnauthenticated(verifier.verify(await signToken(ec, claims)), "TOKEN_CLAIMS_INVALID");
  });

  it("accepts our audience among several", async () => {
    expect(await verifier.verify(await signToken(ec, { aud: ["billing", AUDIENCE] }))).toEqual({ role: "staff", id: "alice" });
  });
});

describe("malformed tokens", () => {
  it("truncated tokens and garbage -> TOKEN_INVALID, never echoing the token", async () => {
    const good = await signToken(ec);
    const [h, p] = good.split(".");
    const garbage = [
      "",
      "abc",
      "a.b.c",
      "..",
      good.slice(0, -12),
      good.slice(0, good.lastIndexOf(".")),
      `${h}.${p}`,
      `${h}.${p}.${randomBytes(64).toString("base64url")}`,
      `${h}.!!!!.${good.split(".")[2]}`,
      randomBytes(300).toString("base64"),
      randomBytes(300).toString("base64url"),
      [1, 2, 3].map(() => randomBytes(40).toString("base64url")).join("."),
      handBuiltToken({ alg: "ES256", kid: "ec-1" }, { nope: true }).slice(0, -1) + "x",
      "x".repeat(9000),
      `${good}.extra`,
      ` ${good}`,
    ];
    for (const token of garbage) {
      const e = await expectUnauthenticated(verifier.verify(token), "TOKEN_INVALID");
      if (token.length > 0) expect(e.message).not.toContain(token);
      for (const part of token.split(".")) if (part.length > 8) expect(e.message).not.toContain(part);
    }
  });

  it("refuses a token over 8192 characters before parsing it, even when validly signed", async () => {
    const big = await signToken(ec, { padding: "p".repeat(MAX_TOKEN_LENGTH) });
    expect(big.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    const before = counted.calls;
    await expectUnauthenticated(verifier.verify(big), "TOKEN_INVALID");
    expect(counted.calls).toBe(before);
  });

  it("a non-string token -> TOKEN_INVALID", async () => {
    await expectUnauthenticated(verifier.verify(undefined as unknown as string), "TOKEN_INVALID");
  });
});
