/**
 * The bench's identities. Every run makes its own ES256 key pair: the public
 * half goes into a JWKS file in the run's work dir, which the service trusts
 * through AUTH_PUBLIC_KEYS (and nothing else: AUTH_DEV_KEYS=false), on PGlite
 * and Postgres alike; the private half never leaves this process and signs,
 * with the service's own signer (src/platform/auth/token-signer.ts), a token
 * per customer and the few others a run needs.
 *
 * Also here: priming a freshly started service's token cache, and the
 * in-process cost of one verification (createTokenVerifier, no server).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { loadConfig } from "../../src/config.js";
import type { Principal } from "../../src/kernel/principal.js";
import { createTokenVerifier, type TokenVerifierOptions } from "../../src/platform/auth/jwt-verifier.js";
import { createLocalKeys } from "../../src/platform/auth/keys.js";
import { createTokenSigner, type TokenSigner } from "../../src/platform/auth/token-signer.js";
import { customerId } from "./ids.js";
import { bearer } from "./scenarios.js";

const ALG = "ES256";
/** Longer than any run (seeding 1M orders, profiles and a soak included); --serve prints a token of its own. */
const RUN_TOKEN_TTL_SECONDS = 12 * 3600;

export interface BenchAuth {
  readonly alg: typeof ALG;
  /** The service environment that trusts this run's key, and only it. */
  readonly serviceEnv: Record<string, string>;
  readonly publicJwk: JWK;
  /** How the service started with serviceEnv verifies tokens (issuer, audience, skew, cache size), keys aside. */
  readonly verifier: Omit<TokenVerifierOptions, "keys">;
  /** A token for `principal`, valid for the run unless ttlSeconds says otherwise. */
  sign(principal: Principal, ttlSeconds?: number): Promise<string>;
}

/** Generates the run's key pair and writes its public JWKS to `workDir`. */
export async function createBenchAuth(workDir: string): Promise<BenchAuth> {
  const { publicKey, privateKey } = await generateKeyPair(ALG);
  const material = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(material);
  const publicJwk: JWK = { ...material, kid, alg: ALG, use: "sig" };
  const jwksFile = join(workDir, "bench-jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }) + "\n");
  const serviceEnv = { AUTH_PUBLIC_KEYS: jwksFile, AUTH_DEV_KEYS: "false" };
  // The service's own reading of that environment: its issuer, audience and verifier defaults.
  const { issuer, audience, clockSkewSeconds, tokenCacheSize } = loadConfig(serviceEnv).auth;
  const signer: TokenSigner = createTokenSigner({ privateKey, kid, alg: ALG, issuer, audience });
  return {
    alg: ALG,
    serviceEnv,
    publicJwk,
    verifier: { issuer, audience, clockSkewSeconds, cacheSize: tokenCacheSize },
    sign: (principal, ttlSeconds = RUN_TOKEN_TTL_SECONDS) => signer.sign(principal, ttlSeconds),
  };
}

const customerPrincipal = (i: number): Principal => ({ role: "customer", id: customerId(i) });

/** Tokens of customers 1..count, customer i's at [i - 1]. */
export function mintCustomerTokens(auth: BenchAuth, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => auth.sign(customerPrincipal(i + 1))));
}

/**
 * One Health check per token, 32 in flight, so a freshly started service's
 * token cache holds every customer's token as a long-running service's would
 * (the first verification's cost is measured on its own: measureVerifyCost).
 * Health is public but still verifies a token it is given. Throws on the
 * first refused token.
 */
export async function primeTokenCache(grpcUrl: string, tokens: readonly string[], concurrency = 32): Promise<void> {
  const health = createClient(Health, createGrpcTransport({ baseUrl: grpcUrl }));
  let next = 0;
  const loop = async () => {
    while (next < tokens.length) {
      const i = next++;
      try {
        await health.check({ service: "" }, { headers: bearer(tokens[i]) });
      } catch (err) {
        throw new Error(`the service refuses the bench's token of customer ${i + 1}: ${ConnectError.from(err).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

export interface VerifyCost {
  /** Tokens in the verifier's cache while hits were timed: every customer's, as in a primed service. */
  readonly cachedTokens: number;
  readonly hitCalls: number;
  /** µs per verify of one cached token over and over (h2load's pattern). */
  readonly hitOneTokenUs: number;
  /** µs per verify of the cached tokens in turn (the Node generator's pattern). */
  readonly hitManyTokensUs: number;
  readonly firstCalls: number;
  /** µs per first verify of a token (jose: parse, ES256 signature, claims). */
  readonly firstUs: number;
}

/** Mean µs per awaited `verify` of each token in turn. */
async function timeVerifies(verify: (token: string) => Promise<unknown>, tokens: readonly string[]): Promise<number> {
  const t0 = performance.now();
  for (const t of tokens) await verify(t);
  return ((performance.now() - t0) * 1000) / tokens.length;
}

/**
 * The per-call cost of authentication without a server: the service's
 * verifier, configured as the service configures it, with this run's key. Times
 * `firstCalls` distinct fresh tokens (each a first verification), then, with
 * the customers' tokens cached as in a primed service, `hitCalls` hits of one
 * token and `hitCalls` hits of the tokens in turn. Each path is warmed up first.
 */
export async function measureVerifyCost(auth: BenchAuth, customerTokens: readonly string[], hitCalls = 20_000, firstCalls = 500): Promise<VerifyCost> {
  const keys = await createLocalKeys([auth.publicJwk], "bench key");
  const verifier = () => createTokenVerifier({ keys, ...auth.verifier });
  const fresh = await Promise.all(Array.from({ length: 2 * firstCalls }, (_, i) => auth.sign(customerPrincipal(i + 1))));
  const warm = verifier();
  await timeVerifies((t) => warm.verify(t), fresh.slice(firstCalls));
  await timeVerifies((t) => warm.verify(t), Array<string>(Math.ceil(hitCalls / 10)).fill(fresh[firstCalls]));
  const first = verifier();
  const firstUs = await timeVerifies((t) => first.verify(t), fresh.slice(0, firstCalls));

  const primed = verifier();
  const cached = customerTokens.slice(0, auth.verifier.cacheSize);
  await Promise.all(cached.map((t) => primed.verify(t)));
  const hitManyTokensUs = await timeVerifies((t) => primed.verify(t), Array.from({ length: hitCalls }, (_, i) => cached[i % cached.length]));
  const hitOneTokenUs = await timeVerifies((t) => primed.verify(t), Array<string>(hitCalls).fill(cached[0]));
  return { cachedTokens: cached.length, hitCalls, hitOneTokenUs, hitManyTokensUs, firstCalls, firstUs };
}
