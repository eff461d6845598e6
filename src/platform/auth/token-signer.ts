/**
 * Issues bearer JWTs for a Principal (dev tooling, tests, co-hosted services
 * minting service tokens). The counterpart of jwt-verifier.ts: claims come
 * from claims.ts, the header names the key (kid) and its pinned algorithm.
 *
 *   createTokenSigner({ privateKey, kid, alg, issuer, audience, now? }): TokenSigner
 *   TokenSigner.sign(principal, ttlSeconds): Promise<string>   iat = now, exp = iat + ttl
 *   loadPrivateKey(path): Promise<SigningKey>   a PEM PKCS#8 private key or a private JWK JSON file;
 *     alg pinned as in keys.ts, kid = the JWK's kid or the RFC 7638 thumbprint of the public part
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { SignJWT, calculateJwkThumbprint, importJWK, importPKCS8, type CryptoKey, type JWK, type KeyObject } from "jose";
import type { Principal } from "../../kernel/principal.js";
import { claimsOf } from "./claims.js";
import { pinnedAlgorithm, publicJwk, type SigningAlgorithm } from "./keys.js";

export interface SigningKey {
  readonly key: CryptoKey;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
}

export interface TokenSignerOptions {
  readonly privateKey: CryptoKey | KeyObject;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly issuer: string;
  readonly audience: string;
  /** Milliseconds since the epoch; defaults to Date.now. */
  readonly now?: () => number;
}

export interface TokenSigner {
  /** A token for the principal, valid for ttlSeconds (a positive integer). Throws for anonymous. */
  sign(principal: Principal, ttlSeconds: number): Promise<string>;
}

export function createTokenSigner(options: TokenSignerOptions): TokenSigner {
  const { privateKey, kid, alg, issuer, audience } = options;
  const now = options.now ?? Date.now;
  return {
    async sign(principal, ttlSeconds) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError("ttlSeconds must be a positive integer");
      const iat = Math.floor(now() / 1000);
      return new SignJWT({ ...claimsOf(principal) })
        .setProtectedHeader({ alg, kid, typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(privateKey);
    },
  };
}

async function fromJwk(jwk: JWK): Promise<SigningKey> {
  if (typeof jwk.kty !== "string") throw new Error("not a JWK");
  if (jwk.kty === "oct") throw new Error("symmetric (oct) keys are not allowed");
  if (jwk.d === undefined) throw new Error("is a public key; a private key is needed to sign");
  const alg = pinnedAlgorithm(jwk);
  const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk(jwk)));
  const { kid: _kid, use: _use, key_ops: _ops, ...material } = jwk;
  return { key: (await importJWK({ ...material, alg }, alg)) as CryptoKey, kid, alg };
}

async function fromPkcs8(pem: string): Promise<SigningKey> {
  const jwk = createPublicKey(createPrivateKey({ key: pem, format: "pem" })).export({ format: "jwk" }) as JWK;
  const alg = pinnedAlgorithm(jwk);
  return { key: await importPKCS8(pem, alg), kid: await calculateJwkThumbprint(jwk), alg };
}

/** Reads a signing key: PEM "PRIVATE KEY" (PKCS#8) or a private JWK. Throws an Error naming the file. */
export async function loadPrivateKey(path: string): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: cannot read the key file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    if (text.trimStart().startsWith("{")) {
      let jwk: JWK;
      try {
        jwk = JSON.parse(text) as JWK;
      } catch {
        throw new Error("not valid JSON");
      }
      return await fromJwk(jwk);
    }
    const pem = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text)?.[0];
    if (!pem) throw new Error('expected a PEM "PRIVATE KEY" (PKCS#8) block or a private JWK');
    return await fromPkcs8(pem);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
