/**
 * Local key loading (keys.ts) from temp files: PEM SPKI and JWKS, the pinned
 * algorithm derivation, kid = JWK kid or RFC 7638 thumbprint, the rejections
 * (private keys, oct keys, disallowed or ill-fitting algs, weak RSA, duplicate
 * kids) naming the file and the key, and the resolver's kid/alg rules.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalKeys, loadPublicKeys, pinnedAlgorithm } from "../../../src/platform/auth/keys.js";
import { expectUnauthenticated, testKey } from "./support.js";

let dir: string;
let n = 0;
const write = async (text: string, name = `keys-${++n}`) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-keys-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadPublicKeys", () => {
  it("PEM public keys: one file, several blocks, alg derived per key type, kid = thumbprint", async () => {
    const pairs = await Promise.all(
      (["RS256", "ES256", "ES384", "ES512", "EdDSA"] as const).map((alg) => generateKeyPair(alg, { extractable: true })),
    );
    const pems = await Promise.all(pairs.map((p) => exportSPKI(p.publicKey)));
    const path = await write(`# trusted keys\n${pems.join("\n")}`, "trusted.pem");
    const loaded = await loadPublicKeys([path]);
    expect(loaded.keys.map((k) => k.alg)).toEqual(["RS256", "ES256", "ES384", "ES512", "EdDSA"]);
    const thumbprints = await Promise.all(pairs.map(async (p) => calculateJwkThumbprint(await exportJWK(p.publicKey))));
    expect(loaded.keys.map((k) => k.kid)).toEqual(thumbprints);
    expect(loaded.keys[0].source).toContain("trusted.pem");
  });

  it("JWKS files: the JWK's kid and allowed alg are kept, a missing alg is derived", async () => {
    const rsa = await testKey("RS256", "rsa-pss");
    const ec = await testKey("ES384", "ec-384");
    const ed = await testKey("EdDSA", "ed");
    const path = await write(JSON.stringify({ keys: [{ ...rsa.publicJwk, alg: "PS384", use: "sig" }, ec.publicJwk] }));
    const single = await write(JSON.stringify(ed.publicJwk)); // a bare JWK is accepted too
    const loaded = await loadPublicKeys([path, single]);
    expect(loaded.keys.map(({ kid, alg }) => ({ kid, alg }))).toEqual([
      { kid: "rsa-pss", alg: "PS384" },
      { kid: "ec-384", alg: "ES384" },
      { kid: "ed", alg: "EdDSA" },
    ]);
  });

  it("rejects a private key file (PEM or JWK), naming the file and the key", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const pemPath = await write(await exportPKCS8(privateKey), "private.pem");
    await expect(loadPublicKeys([pemPath])).rejects.toThrow(/private\.pem.*"PRIVATE KEY".*only "PUBLIC KEY"/);
    const jwkPath = await write(JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: "leaked" }] }), "private.json");
    await expect(loadPublicKeys([jwkPath])).rejects.toThrow(/private\.json: key "leaked": is a private key/);
  });

  it("rejects an oct (symmetric) key given as a public key", async () => {
    const path = await write(JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQ", alg: "HS256" }] }), "oct.json");
    await expect(loadPublicKeys([path])).rejects.toThrow(/oct\.json: key #1: symmetric \(oct\) keys are not allowed/);
  });

  it("rejects disallowed or ill-fitting algorithms, unknown key types and weak RSA", async () => {
    const rsa = await testKey("RS256", "r");
    const ec = await testKey("ES256", "e");
    const x25519 = await exportJWK((await generateKeyPair("ECDH-ES", { crv: "X25519" })).publicKey);
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" });
    const cases: [object, RegExp][] = [
      [{ ...rsa.publicJwk, alg: "HS256" }, /key "r": algorithm "HS256" is not allowed/],
      [{ ...rsa.publicJwk, alg: "RSA-OAEP" }, /key "r": algorithm "RSA-OAEP" is not allowed/],
      [{ ...ec.publicJwk, alg: "ES384" }, /key "e": algorithm ES384 does not fit the key \(EC P-256\)/],
      [{ ...rsa.publicJwk, use: "enc" }, /key "r": "use" is "enc"/],
      [x25519, /key #1: unsupported key type "OKP" \(X25519\)/],
      [weak, /key #1: RSA keys must have at least 2048 bits/],
    ];
    for (const [jwk, message] of cases) {
      const path = await write(JSON.stringify({ keys: [jwk] }));
      await expect(loadPublicKeys([path])).rejects.toThrow(message);
      await expect(loadPublicKeys([path])).rejects.toThrow(path);
    }
  });

  it("rejects files that are not keys, missing files, empty sets and duplicate kids", async () => {
    await expect(loadPublicKeys([await write("hello")])).rejects.toThrow(/neither a JWKS \(JSON\) nor PEM/);
    await expect(loadPublicKeys([await write("{ nope")])).rejects.toThrow(/not valid JSON/);
    await expect(loadPublicKeys([await write('{"keys": []}')])).rejects.toThrow(/at least one key/);
    await expect(loadPublicKeys([join(dir, "missing.json")])).rejects.toThrow(/missing\.json: cannot read the key file \(ENOENT\)/);
    await expect(loadPublicKeys([])).rejects.toThrow(/no trusted token keys/);
    const a = await testKey("ES256", "same");
    const b = await testKey("ES256", "same");
    const [pa, pb] = [await write(JSON.stringify(a.publicJwk)), await write(JSON.stringify(b.publicJwk))];
    await expect(loadPublicKeys([pa, pb])).rejects.toThrow(/kid "same" is also used by/);
  });
});

describe("pinnedAlgorithm", () => {
  it("derives RSA -> RS256, P-256/384/521 -> ES256/384/512, Ed25519 -> EdDSA", () => {
    expect(pinnedAlgorithm({ kty: "RSA", n: "x", e: "AQAB" })).toBe("RS256");
    expect(pinnedAlgorithm({ kty: "EC", crv: "P-256" })).toBe("ES256");
    expect(pinnedAlgorithm({ kty: "EC", crv: "P-384" })).toBe("ES384");
    expect(pinnedAlgorithm({ kty: "EC", crv: "P-521" })).toBe("ES512");
    expect(pinnedAlgorithm({ kty: "OKP", crv: "Ed25519" })).toBe("EdDSA");
    expect(pinnedAlgorithm({ kty: "RSA", alg: "PS512" })).toBe("PS512");
    expect(() => pinnedAlgorithm({ kty: "EC", crv: "secp256k1" })).toThrow(/unsupported key type/);
    expect(() => pinnedAlgorithm({ kty: "OKP", crv: "Ed25519", alg: "Ed25519" })).toThrow(/not allowed/);
  });
});

describe("local key resolver", () => {
  it("finds by kid with the pinned alg, or by alg alone when unambiguous", async () => {
    const [a, b, c] = await Promise.all([testKey("ES256", "a"), testKey("ES256", "b"), testKey("EdDSA", "c")]);
    const keys = await createLocalKeys([a.publicJwk, b.publicJwk, c.publicJwk]);
    const keyOf = (kid: string) => keys.keys.find((k) => k.kid === kid)!.key;
    expect(await keys.resolve({ alg: "ES256", kid: "b" })).toBe(keyOf("b"));
    expect(await keys.resolve({ alg: "EdDSA" })).toBe(keyOf("c"));
    await expectUnauthenticated(keys.resolve({ alg: "ES256", kid: "zzz" }), "TOKEN_KEY_UNKNOWN");
    await expectUnauthenticated(keys.resolve({ alg: "ES384", kid: "a" }), "TOKEN_INVALID");
    await expectUnauthenticated(keys.resolve({ alg: "EdDSA", kid: "a" }), "TOKEN_INVALID");
    await expectUnauthenticated(keys.resolve({ alg: "ES256" }), "TOKEN_KEY_UNKNOWN"); // two ES256 keys: must name one
    await expectUnauthenticated(keys.resolve({ alg: "RS256" }), "TOKEN_KEY_UNKNOWN");
    await expectUnauthenticated(keys.resolve({ alg: "ES256", kid: 7 as unknown as string }), "TOKEN_KEY_UNKNOWN");
  });
});
