/**
 * The zero-setup dev key (dev-keys.ts): created once with mode 0600 and
 * reused, safe when several starts race for it, refused when the file is not
 * such a key, and a token signed with it verifies over devPublicKeys.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { devPublicKeys, ensureDevKeys } from "../../../src/platform/auth/dev-keys.js";
import { createTokenVerifier } from "../../../src/platform/auth/jwt-verifier.js";
import { createTokenSigner } from "../../../src/platform/auth/token-signer.js";
import { AUDIENCE, CUSTOMER_ID, ISSUER } from "./support.js";

const dirs: string[] = [];
const freshDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "auth-dev-"));
  dirs.push(dir);
  return join(dir, "data"); // does not exist yet: ensureDevKeys creates it
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("ensureDevKeys", () => {
  it("creates <dataDir>/auth/dev-signing-key.json (0600) once, then reuses it", async () => {
    const dataDir = await freshDir();
    const first = await ensureDevKeys(dataDir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dataDir, "auth", "dev-signing-key.json"));
    expect(first.alg).toBe("EdDSA");
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);
    const onDisk = JSON.parse(await readFile(first.path, "utf8"));
    expect(onDisk).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: first.kid, alg: "EdDSA" });
    expect(typeof onDisk.d).toBe("string");
    expect(first.publicJwk).toEqual({ kty: "OKP", crv: "Ed25519", x: onDisk.x, kid: first.kid, alg: "EdDSA", use: "sig" });

    const second = await ensureDevKeys(dataDir);
    expect(second.created).toBe(false);
    expect(second.kid).toBe(first.kid);
    expect(second.publicJwk).toEqual(first.publicJwk);
  });

  it("several starts at once agree on one key and leave no temp files", async () => {
    const dataDir = await freshDir();
    const all = await Promise.all(Array.from({ length: 6 }, () => ensureDevKeys(dataDir)));
    expect(all.filter((k) => k.created)).toHaveLength(1);
    expect(new Set(all.map((k) => k.kid)).size).toBe(1);
    expect(await readdir(join(dataDir, "auth"))).toEqual(["dev-signing-key.json"]);
  });

  it("refuses a file that is not an Ed25519 private JWK instead of replacing it", async () => {
    const dataDir = await freshDir();
    await mkdir(join(dataDir, "auth"), { recursive: true });
    const path = join(dataDir, "auth", "dev-signing-key.json");
    await writeFile(path, "{not json");
    await expect(ensureDevKeys(dataDir)).rejects.toThrow(/dev-signing-key\.json: .*not valid JSON/);
    await writeFile(path, JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y" }));
    await expect(ensureDevKeys(dataDir)).rejects.toThrow(/not an Ed25519 private JWK/);
  });
});

describe("devPublicKeys", () => {
  it("verifies tokens signed with the dev key", async () => {
    const dev = await ensureDevKeys(await freshDir());
    const keys = await devPublicKeys(dev.publicJwk);
    expect(keys.keys.map(({ kid, alg }) => ({ kid, alg }))).toEqual([{ kid: dev.kid, alg: "EdDSA" }]);
    const signer = createTokenSigner({ privateKey: dev.privateKey, kid: dev.kid, alg: dev.alg, issuer: ISSUER, audience: AUDIENCE });
    const verifier = createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 30, cacheSize: 10 });
    const customer = { role: "customer", id: CUSTOMER_ID } as const;
    expect(await verifier.verify(await signer.sign(customer, 60))).toEqual(customer);
    expect(await verifier.verify(await signer.sign({ role: "service", id: "orders" }, 60))).toEqual({ role: "service", id: "orders" });
  });
});
