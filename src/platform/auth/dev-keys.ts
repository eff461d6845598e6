/**
 * Zero-setup development signing key: an Ed25519 (EdDSA) private JWK kept at
 * <dataDir>/auth/dev-signing-key.json (mode 0600), created on first use and
 * reused afterwards, so a local run can mint and verify tokens without an IdP.
 * Never meant for production: whoever reads the file can sign any principal.
 *
 *   ensureDevKeys(dataDir): Promise<DevKeys>   { privateKey, publicJwk, kid, alg, path, created }
 *   devPublicKeys(publicJwk): Promise<LocalKeys>   the verifier's key source for it
 *
 * Two processes starting at once: each writes a complete temp file, then
 * link()s it to the final name, which fails instead of clobbering if the other
 * won; the loser reads the winner's key. A file that exists but is not such a
 * key is an error, not silently replaced (tokens signed with it would die).
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import { createLocalKeys, publicJwk, type LocalKeys } from "./keys.js";

export interface DevKeys {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly kid: string;
  readonly alg: "EdDSA";
  /** The key file. */
  readonly path: string;
  /** Whether this call generated it. */
  readonly created: boolean;
}

const ALG = "EdDSA";

async function generate(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALG, use: "sig" };
}

/** Writes the key to a temp file, then links it into place unless someone else already has. */
async function publish(path: string, jwk: JWK): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(temp, "wx", 0o600);
  try {
    await file.writeFile(`${JSON.stringify(jwk, null, 2)}\n`);
    await file.chmod(0o600);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new Error(`${path}: cannot create the dev signing key (${(e as Error).message})`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function read(path: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as JWK;
  } catch {
    throw new Error(`${path}: the dev signing key is not valid JSON; delete it to generate a new one`);
  }
}

async function toDevKeys(path: string, jwk: JWK, created: boolean): Promise<DevKeys> {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.d !== "string" || typeof jwk.kid !== "string" || jwk.alg !== ALG) {
    throw new Error(`${path}: not an Ed25519 private JWK with kid and alg "EdDSA"; delete it to generate a new one`);
  }
  const { kty, crv, x, d } = jwk;
  const privateKey = (await importJWK({ kty, crv, x, d }, ALG)) as CryptoKey;
  return { privateKey, publicJwk: publicJwk(jwk), kid: jwk.kid, alg: ALG, path, created };
}

/** The development key pair under dataDir, generating it on first use. */
export async function ensureDevKeys(dataDir: string): Promise<DevKeys> {
  const path = join(dataDir, "auth", "dev-signing-key.json");
  const existing = await read(path);
  if (existing) return toDevKeys(path, existing, false);
  await mkdir(dataDir, { recursive: true });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }); // only the auth/ directory is private
  const created = await publish(path, await generate());
  const jwk = await read(path);
  if (!jwk) throw new Error(`${path}: the dev signing key vanished while it was being created`);
  return toDevKeys(path, jwk, created);
}

/** A key source trusting the dev public key, for createTokenVerifier. */
export function devPublicKeys(publicJwk: JWK): Promise<LocalKeys> {
  return createLocalKeys([publicJwk], "dev signing key");
}
