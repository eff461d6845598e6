/**
 * The signer and loadPrivateKey (token-signer.ts): PEM PKCS#8 and private JWK
 * files round-trip through loadPublicKeys + createTokenVerifier; the header
 * and claims are what the verifier expects; bad key files and bad arguments
 * are refused.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANONYMOUS } from "../../../src/kernel/principal.js";
import { createTokenVerifier } from "../../../src/platform/auth/jwt-verifier.js";
import { loadPublicKeys, type LocalKeys } from "../../../src/platform/auth/keys.js";
import { createTokenSigner, loadPrivateKey } from "../../../src/platform/auth/token-signer.js";
import { AUDIENCE, CUSTOMER_ID, ISSUER, expectUnauthenticated } from "./support.js";

let dir: string;
const write = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};
const verifierOver = (keys: LocalKeys, now?: () => number) =>
  createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 30, cacheSize: 0, now });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-signer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadPrivateKey + createTokenSigner", () => {
  it.each(["ES256", "ES512", "EdDSA", "RS256"] as const)("a PEM PKCS#8 %s key round-trips through a PEM public key", async (alg) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const signing = await loadPrivateKey(await write(`${alg}.key.pem`, await exportPKCS8(privateKey)));
    expect(signing.alg).toBe(alg);
    expect(signing.kid).toBe(await calculateJwkThumbprint(await exportJWK(publicKey)));
    const keys = await loadPublicKeys([await write(`${alg}.pub.pem`, await exportSPKI(publicKey))]);
    expect(keys.keys[0].kid).toBe(signing.kid);

    const signer = createTokenSigner({ privateKey: signing.key, kid: signing.kid, alg: signing.alg, issuer: ISSUER, audience: AUDIENCE });
    const customer = { role: "customer", id: CUSTOMER_ID } as const;
    const token = await signer.sign(customer, 120);
    expect(await verifierOver(keys).verify(token)).toEqual(customer);
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: signing.kid, typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, role: "customer", sub: `customer:${CUSTOMER_ID}`, customer_id: CUSTOMER_ID });
    expect(claims.exp! - claims.iat!).toBe(120);
  });

  it("a private JWK file keeps its kid and alg and round-trips through a JWKS file", async () => {
    const { privateKey } = await generateKeyPair("PS256", { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: "signing-2024", alg: "PS256" };
    const signing = await loadPrivateKey(await write("signing.jwk.json", JSON.stringify(jwk)));
    expect({ kid: signing.kid, alg: signing.alg }).toEqual({ kid: "signing-2024", alg: "PS256" });
    const { kty, n, e, kid, alg } = jwk;
    const keys = await loadPublicKeys([await write("jwks.json", JSON.stringify({ keys: [{ kty, n, e, kid, alg }] }))]);
    expect(keys.keys[0].alg).toBe("PS256");
    const signer = createTokenSigner({ privateKey: signing.key, kid: signing.kid, alg: signing.alg, issuer: ISSUER, audience: AUDIENCE });
    expect(await verifierOver(keys).verify(await signer.sign({ role: "staff", id: "alice" }, 60))).toEqual({ role: "staff", id: "alice" });
  });

  it("a private JWK without kid gets the thumbprint of its public part", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES384", { extractable: true });
    const signing = await loadPrivateKey(await write("nokid.json", JSON.stringify(await exportJWK(privateKey))));
    expect(signing).toMatchObject({ alg: "ES384", kid: await calculateJwkThumbprint(await exportJWK(publicKey)) });
  });

  it("signs iat/exp from its clock: a token signed an hour ago for 10 minutes is expired", async () => {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    const keys = await loadPublicKeys([await write("clock.json", JSON.stringify({ ...(await exportJWK(publicKey)), kid: "k" }))]);
    const hourAgo = Date.now() - 3_600_000;
    const signer = createTokenSigner({ privateKey, kid: "k", alg: "EdDSA", issuer: ISSUER, audience: AUDIENCE, now: () => hourAgo });
    await expectUnauthenticated(verifierOver(keys).verify(await signer.sign({ role: "admin", id: "root" }, 600)), "TOKEN_EXPIRED");
  });

  it("refuses public keys, oct keys, PKCS#1 PEM and junk, naming the file", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const cases: [string, string, RegExp][] = [
      ["public.json", JSON.stringify(await exportJWK(publicKey)), /public\.json: is a public key/],
      ["oct.json", JSON.stringify({ kty: "oct", k: "c2VjcmV0" }), /oct\.json: symmetric \(oct\) keys are not allowed/],
      ["public.pem", await exportSPKI(publicKey), /public\.pem: expected a PEM "PRIVATE KEY" \(PKCS#8\)/],
      ["pkcs1.pem", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", /pkcs1\.pem: expected a PEM/],
      ["junk.json", "{junk", /junk\.json: not valid JSON/],
      ["bad-alg.json", JSON.stringify({ ...(await exportJWK(privateKey)), alg: "HS256" }), /bad-alg\.json: algorithm "HS256" is not allowed/],
    ];
    for (const [name, text, message] of cases) await expect(loadPrivateKey(await write(name, text))).rejects.toThrow(message);
    await expect(loadPrivateKey(join(dir, "nope.pem"))).rejects.toThrow(/nope\.pem: cannot read the key file \(ENOENT\)/);
  });

  it("refuses to sign for anonymous or with a bad ttl", async () => {
    const { privateKey } = await generateKeyPair("EdDSA");
    const signer = createTokenSigner({ privateKey, kid: "k", alg: "EdDSA", issuer: ISSUER, audience: AUDIENCE });
    await expect(signer.sign(ANONYMOUS, 60)).rejects.toThrow(/anonymous/);
    await expect(signer.sign({ role: "staff", id: "alice" }, 0)).rejects.toThrow(RangeError);
    await expect(signer.sign({ role: "staff", id: "alice" }, 1.5)).rejects.toThrow(RangeError);
  });
});
