/**
 * Trusted token-verification keys, each with its algorithm PINNED, so a token
 * can never choose how it is checked (no "alg: none", no HS256 with a public
 * key as the secret, no PS256 against a key meant for RS256).
 *
 *   ALLOWED_ALGORITHMS                     asymmetric only: RS/PS 256-512, ES256/384/512, EdDSA
 *   interface KeySource { resolve(header) } a jose key function: header -> CryptoKey, or a DomainError
 *   loadPublicKeys(paths): Promise<LocalKeys>      JWKS / JWK JSON files or PEM "PUBLIC KEY" (SPKI) files
 *   createLocalKeys(jwks, source?): Promise<LocalKeys>  the same from JWKs in memory (dev key, tests)
 *   createRemoteKeys(url, { cooldownMs, cacheMaxAgeMs, timeoutMs }): RemoteKeys   jose's createRemoteJWKSet
 *   pinnedAlgorithm(jwk), publicJwk(jwk)   shared with the signer and the dev keys
 *
 * Pinning: a JWK's "alg" when present (must be allowed and fit the key), else
 * RSA -> RS256, EC P-256/384/521 -> ES256/384/512, OKP Ed25519 -> EdDSA.
 * Loading throws a plain Error naming the file and the key for anything else,
 * for private keys (a "d"), symmetric "oct" keys and RSA keys under 2048 bits.
 *
 * Resolving: with a "kid" the key is the one with that kid (none ->
 * TOKEN_KEY_UNKNOWN) and header.alg must equal its pinned alg (else
 * TOKEN_INVALID). Without a kid it is the single key pinned to header.alg (none
 * or several -> TOKEN_KEY_UNKNOWN: such a token must name its key). The remote
 * source applies the same rule to the key jose picked; the JWKS endpoint down,
 * slow or serving junk -> unavailable AUTH_KEYS_UNAVAILABLE.
 */
import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  errors,
  importJWK,
  type CompactJWSHeaderParameters,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { unauthenticated, unavailable } from "../../kernel/errors.js";

export const ALLOWED_ALGORITHMS = [
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
] as const;
export type SigningAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** Where the verifier gets a token's key: local keys or a remote JWKS. */
export interface KeySource {
  /** The verification key for a token's protected header; throws a DomainError when there is none. */
  readonly resolve: (header: CompactJWSHeaderParameters) => Promise<CryptoKey>;
}

export interface TrustedKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly key: CryptoKey;
  /** Where it came from, for messages: "<file>: key <kid or #n>". */
  readonly source: string;
}

export interface LocalKeys extends KeySource {
  readonly keys: readonly TrustedKey[];
}

export interface RemoteKeys extends KeySource {
  readonly url: string;
}

export interface RemoteKeysOptions {
  /** After a fetch, how long an unknown kid waits before it may trigger another. Default 30 s. */
  readonly cooldownMs?: number;
  /** How long fetched keys are used before they are fetched again. Default 10 min. */
  readonly cacheMaxAgeMs?: number;
  /** Abort a JWKS fetch after this long (an integer). Default 5 s. */
  readonly timeoutMs?: number;
}

const keyUnknown = () => unauthenticated("TOKEN_KEY_UNKNOWN", "token signing key is not known");
const algMismatch = () => unauthenticated("TOKEN_INVALID", "token algorithm does not match its key");
const keysUnavailable = () => unavailable("AUTH_KEYS_UNAVAILABLE", "token signing keys cannot be fetched");

const isAllowed = (alg: unknown): alg is SigningAlgorithm =>
  typeof alg === "string" && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);

/** The key type an algorithm needs, and the algorithm each key type defaults to. */
const keyTypeOfAlg = (alg: SigningAlgorithm) =>
  /^[RP]S/.test(alg) ? "RSA" : alg === "EdDSA" ? "OKP:Ed25519" : `EC:P-${alg === "ES512" ? 521 : alg.slice(2)}`;
const DEFAULT_ALG: Readonly<Record<string, SigningAlgorithm>> = {
  RSA: "RS256", "EC:P-256": "ES256", "EC:P-384": "ES384", "EC:P-521": "ES512", "OKP:Ed25519": "EdDSA",
};

/** The algorithm a (public or private) JWK is pinned to. Throws an Error saying why it cannot be used. */
export function pinnedAlgorithm(jwk: JWK): SigningAlgorithm {
  if (jwk.kty === "oct") throw new Error("symmetric (oct) keys are not allowed");
  const type = jwk.kty === "RSA" ? "RSA" : `${jwk.kty}:${jwk.crv}`;
  const derived = DEFAULT_ALG[type];
  if (!derived) throw new Error(`unsupported key type ${JSON.stringify(jwk.kty)}${jwk.crv ? ` (${jwk.crv})` : ""}`);
  if (jwk.alg === undefined) return derived;
  if (!isAllowed(jwk.alg)) throw new Error(`algorithm ${JSON.stringify(jwk.alg)} is not allowed`);
  if (keyTypeOfAlg(jwk.alg) !== type) throw new Error(`algorithm ${jwk.alg} does not fit the key (${type.replace(":", " ")})`);
  return jwk.alg;
}

/** The public members of a JWK (and its kid/alg/use), without any private ones. */
export function publicJwk(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e, kid, alg, use } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid, alg, use }).filter(([, v]) => v !== undefined));
}

const rsaBits = (n: string) => {
  const hex = Buffer.from(n, "base64url").toString("hex");
  return hex === "" ? 0 : BigInt(`0x${hex}`).toString(2).length;
};

/** Checks a JWK offered as a public verification key and imports it with its pinned algorithm. */
async function trustKey(jwk: JWK, where: string, index: number): Promise<TrustedKey> {
  const source = `${where}: key ${typeof jwk?.kid === "string" ? JSON.stringify(jwk.kid) : `#${index + 1}`}`;
  try {
    if (typeof jwk !== "object" || jwk === null || typeof jwk.kty !== "string") throw new Error("not a JWK");
    if (jwk.d !== undefined) throw new Error("is a private key; give the public key only");
    const alg = pinnedAlgorithm(jwk);
    if (jwk.use !== undefined && jwk.use !== "sig") throw new Error(`"use" is ${JSON.stringify(jwk.use)}, not "sig"`);
    if (jwk.key_ops !== undefined && !jwk.key_ops.includes("verify")) throw new Error('"key_ops" lacks "verify"');
    if (jwk.kty === "RSA" && rsaBits(String(jwk.n)) < 2048) throw new Error("RSA keys must have at least 2048 bits");
    if (jwk.kid !== undefined && (typeof jwk.kid !== "string" || jwk.kid === "")) throw new Error("kid must be a non-empty string");
    const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
    const key = (await importJWK({ ...publicJwk(jwk), alg }, alg)) as CryptoKey;
    return { kid, alg, key, source };
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
}

function localKeys(keys: readonly TrustedKey[]): LocalKeys {
  if (keys.length === 0) throw new Error("no trusted token keys were given");
  const byKid = new Map<string, TrustedKey>();
  for (const k of keys) {
    const other = byKid.get(k.kid);
    if (other) throw new Error(`${k.source}: kid ${JSON.stringify(k.kid)} is also used by ${other.source}`);
    byKid.set(k.kid, k);
  }
  const byAlg = new Map<string, TrustedKey[]>();
  for (const k of keys) byAlg.set(k.alg, [...(byAlg.get(k.alg) ?? []), k]);
  return Object.freeze({
    keys: Object.freeze([...keys]),
    resolve: async ({ alg, kid }: CompactJWSHeaderParameters) => {
      if (kid === undefined) {
        const candidates = byAlg.get(alg) ?? [];
        if (candidates.length !== 1) throw keyUnknown();
        return candidates[0].key;
      }
      const found = typeof kid === "string" ? byKid.get(kid) : undefined;
      if (!found) throw keyUnknown();
      if (found.alg !== alg) throw algMismatch();
      return found.key;
    },
  });
}

/** Trusts these public JWKs (e.g. the dev key). `source` names them in errors. */
export async function createLocalKeys(jwks: readonly JWK[], source = "inline keys"): Promise<LocalKeys> {
  return localKeys(await Promise.all(jwks.map((jwk, i) => trustKey(jwk, source, i))));
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The JWKs in one key file: a JWKS, a single JWK, or PEM "PUBLIC KEY" blocks. */
function parseKeyFile(path: string, text: string): JWK[] {
  if (text.trimStart().startsWith("{")) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`${path}: not valid JSON`);
    }
    const set = doc as Partial<JSONWebKeySet> & JWK;
    if (Array.isArray(set.keys) && set.keys.length > 0) return set.keys;
    if (typeof set.kty === "string") return [set];
    throw new Error(`${path}: expected a JWKS ({"keys": [...]}) with at least one key, or a JWK`);
  }
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new Error(`${path}: neither a JWKS (JSON) nor PEM public keys`);
  return blocks.map(([pem, label], i) => {
    if (label !== "PUBLIC KEY") {
      throw new Error(`${path}: PEM block #${i + 1} is "${label}"; only "PUBLIC KEY" (SPKI) blocks are accepted`);
    }
    try {
      return createPublicKey({ key: pem, format: "pem" }).export({ format: "jwk" }) as JWK;
    } catch (e) {
      throw new Error(`${path}: PEM block #${i + 1} is not a valid public key (${(e as Error).message})`);
    }
  });
}

/** Reads and trusts the keys in these files (JWKS JSON, a JWK, or PEM SPKI public keys). Throws naming the file. */
export async function loadPublicKeys(paths: readonly string[]): Promise<LocalKeys> {
  const trusted: TrustedKey[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      throw new Error(`${path}: cannot read the key file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const jwks = parseKeyFile(path, text);
    for (const [i, jwk] of jwks.entries()) trusted.push(await trustKey(jwk, path, i));
  }
  return localKeys(trusted);
}

const usableForVerify = (jwk: JWK) =>
  (jwk.use === undefined || jwk.use === "sig") && (jwk.key_ops === undefined || jwk.key_ops.includes("verify"));

function pinnedOrUndefined(jwk: JWK): SigningAlgorithm | undefined {
  try {
    return pinnedAlgorithm(jwk);
  } catch {
    return undefined;
  }
}

/**
 * Keys from a JWKS URL, fetched and cached by jose's createRemoteJWKSet (an
 * unknown kid refetches at most once per cooldown). After jose picks a key, its
 * JWK in the cached set must be pinned to header.alg.
 */
export function createRemoteKeys(url: string | URL, options: RemoteKeysOptions = {}): RemoteKeys {
  const target = new URL(url);
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw new Error(`JWKS URL must be http(s): ${target.href}`);
  }
  const jwks = createRemoteJWKSet(target, {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    timeoutDuration: options.timeoutMs,
  });
  const cached = () => jwks.jwks()?.keys ?? [];
  return Object.freeze({
    url: target.href,
    resolve: async (header: CompactJWSHeaderParameters) => {
      const { alg, kid } = header;
      if (kid !== undefined && typeof kid !== "string") throw keyUnknown();
      let key: CryptoKey;
      try {
        key = await jwks(header);
      } catch (e) {
        if (e instanceof errors.JWKSNoMatchingKey) {
          throw kid !== undefined && cached().some((jwk) => jwk.kid === kid) ? algMismatch() : keyUnknown();
        }
        if (e instanceof errors.JWKSMultipleMatchingKeys) throw keyUnknown();
        throw keysUnavailable();
      }
      // jose matched at most one usable key for (kid, alg); this subset is it only if it is pinned to alg.
      const pinned = cached().filter(
        (jwk) => usableForVerify(jwk) && (kid === undefined || jwk.kid === kid) && pinnedOrUndefined(jwk) === alg,
      );
      if (pinned.length !== 1) throw algMismatch();
      return key;
    },
  });
}
