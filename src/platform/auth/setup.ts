/**
 * Authentication as configured (AuthConfig, src/config.ts): which keys tokens
 * are verified with, the authenticator wrapService uses, the development
 * signer (zero setup: a key pair created in DATA_DIR/auth on first start),
 * and the credentials the order module sends when inventory or customers run
 * in another process.
 */
import { decodeJwt } from "jose";
import { ConfigError, type AuthConfig } from "../../config.js";
import { servicePrincipal, type Principal } from "../../kernel/principal.js";
import { createAuthenticator, createDisabledAuthenticator, type Authenticator } from "./authenticator.js";
import { devPublicKeys, ensureDevKeys, type DevKeys } from "./dev-keys.js";
import { createTokenVerifier } from "./jwt-verifier.js";
import { createRemoteKeys, loadPublicKeys, type KeySource } from "./keys.js";
import { createTokenSigner, loadPrivateKey, type TokenSigner } from "./token-signer.js";

/** The name the order module calls other services by, and owns its stock reservations as. */
export const ORDERS_SERVICE = servicePrincipal("orders");

/** Lifetime of the service tokens the order module mints for itself. */
const SERVICE_TOKEN_TTL_SECONDS = 300;

export interface ServiceCredentials {
  /** A bearer token for the order module, valid for a while yet. */
  token(): Promise<string>;
}

export interface Auth {
  readonly authenticator: Authenticator;
  /** Signs tokens with the development key; undefined without one. */
  readonly devSigner: TokenSigner | undefined;
  readonly devKeys: DevKeys | undefined;
  /** For the order module's calls to services deployed apart; undefined when none is configured. */
  readonly serviceCredentials: ServiceCredentials | undefined;
}

/** Tries each source in turn while the answer is "no such key". */
function anyOf(sources: readonly KeySource[]): KeySource {
  if (sources.length === 1) return sources[0];
  return {
    async resolve(header) {
      let last: unknown;
      for (const s of sources) {
        try {
          return await s.resolve(header);
        } catch (err) {
          if ((err as { reason?: string }).reason !== "TOKEN_KEY_UNKNOWN") throw err;
          last = err;
        }
      }
      throw last;
    },
  };
}

export async function createAuth(config: AuthConfig, dataDir: string): Promise<Auth> {
  const devKeys = config.devKeys ? await ensureDevKeys(dataDir) : undefined;
  const devSigner =
    devKeys &&
    createTokenSigner({ privateKey: devKeys.privateKey, kid: devKeys.kid, alg: devKeys.alg, issuer: config.issuer, audience: config.audience });
  const serviceCredentials = await serviceCredentialsOf(config, devSigner);
  if (config.disabled) return { authenticator: createDisabledAuthenticator(), devSigner, devKeys, serviceCredentials };

  const sources: KeySource[] = [];
  if (devKeys) sources.push(await devPublicKeys(devKeys.publicJwk));
  if (config.publicKeyFiles.length > 0) {
    try {
      sources.push(await loadPublicKeys(config.publicKeyFiles));
    } catch (err) {
      throw new ConfigError(`AUTH_PUBLIC_KEYS: ${(err as Error).message}`);
    }
  }
  if (config.jwksUrl) {
    sources.push(createRemoteKeys(config.jwksUrl, { cooldownMs: config.jwksCooldownMs, cacheMaxAgeMs: config.jwksCacheMaxAgeMs }));
  }
  const verifier = createTokenVerifier({
    keys: anyOf(sources),
    issuer: config.issuer,
    audience: config.audience,
    clockSkewSeconds: config.clockSkewSeconds,
    cacheSize: config.tokenCacheSize,
  });
  return { authenticator: createAuthenticator(verifier), devSigner, devKeys, serviceCredentials };
}

async function serviceCredentialsOf(config: AuthConfig, devSigner: TokenSigner | undefined): Promise<ServiceCredentials | undefined> {
  if (config.serviceToken) {
    const token = config.serviceToken;
    checkGivenServiceToken(token);
    return { token: async () => token };
  }
  let signer = devSigner;
  if (config.serviceKeyFile) {
    let key;
    try {
      key = await loadPrivateKey(config.serviceKeyFile);
    } catch (err) {
      throw new ConfigError(`AUTH_SERVICE_KEY: ${(err as Error).message}`);
    }
    signer = createTokenSigner({ privateKey: key.key, kid: key.kid, alg: key.alg, issuer: config.issuer, audience: config.audience });
  }
  return signer && mintingCredentials(signer, ORDERS_SERVICE);
}

/** Mints a token for `principal` and hands it out until it has a minute left. */
function mintingCredentials(signer: TokenSigner, principal: Principal): ServiceCredentials {
  let current: { token: Promise<string>; renewAt: number } | undefined;
  return {
    token() {
      const now = Date.now();
      if (!current || now >= current.renewAt) {
        const token = signer.sign(principal, SERVICE_TOKEN_TTL_SECONDS);
        current = { token, renewAt: now + (SERVICE_TOKEN_TTL_SECONDS - 60) * 1000 };
        token.catch(() => (current = undefined));
      }
      return current.token;
    },
  };
}

/** A given service token must be the order module's: reservations are owned by that name. */
function checkGivenServiceToken(token: string): void {
  let claims;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new ConfigError("AUTH_SERVICE_TOKEN is not a JWT");
  }
  if (claims.role !== "service" || claims.sub !== ORDERS_SERVICE.id) {
    throw new ConfigError(`AUTH_SERVICE_TOKEN must be a service token for "${ORDERS_SERVICE.id}" (role "service", sub "${ORDERS_SERVICE.id}")`);
  }
}
