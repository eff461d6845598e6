/**
 * Test identities. Tests mint their own keys: one signing key pair per test
 * process, its public half in a JWKS file the app trusts through
 * AUTH_PUBLIC_KEYS (the production loading path), its private half in a file
 * the app mints service tokens with (AUTH_SERVICE_KEY), for services deployed
 * apart. `tokenFor` signs any principal; `withPrincipal` and `asPermitted`
 * put a token on every call of a transport.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type { AuthConfig } from "../../src/config.js";
import { servicePrincipal, type Principal } from "../../src/kernel/principal.js";
import { ruleOf } from "../../src/platform/access.js";
import { createTokenSigner, type TokenSigner } from "../../src/platform/auth/token-signer.js";

export const TEST_ISSUER = "order-service-tests";
export const TEST_AUDIENCE = "order-service";

export const ADMIN: Principal = { role: "admin", id: "test-admin" };
export const STAFF: Principal = { role: "staff", id: "test-staff" };
export const ORDERS: Principal = servicePrincipal("orders");
export const WAREHOUSE: Principal = servicePrincipal("warehouse");
export const customer = (id: string): Principal => ({ role: "customer", id: id.toLowerCase() });

interface TestKeys {
  readonly signer: TokenSigner;
  readonly publicKeysFile: string;
  readonly privateKeyFile: string;
}

let keys: Promise<TestKeys> | undefined;

async function makeKeys(): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const dir = mkdtempSync(join(tmpdir(), "order-service-test-keys-"));
  const publicKeysFile = join(dir, "jwks.json");
  const privateKeyFile = join(dir, "service-key.json");
  writeFileSync(publicKeysFile, JSON.stringify({ keys: [{ ...pub, kid, alg: "ES256", use: "sig" }] }));
  writeFileSync(privateKeyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: "ES256" }), { mode: 0o600 });
  const signer = createTokenSigner({ privateKey, kid, alg: "ES256", issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  return { signer, publicKeysFile, privateKeyFile };
}

const testKeys = () => (keys ??= makeKeys());

/** The auth settings every test app runs with: the test keys, nothing in DATA_DIR. */
export async function testAuthConfig(overrides: Partial<AuthConfig> = {}): Promise<AuthConfig> {
  const k = await testKeys();
  return {
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwksUrl: undefined,
    publicKeyFiles: [k.publicKeysFile],
    devKeys: false,
    serviceKeyFile: k.privateKeyFile,
    serviceToken: undefined,
    clockSkewSeconds: 30,
    tokenCacheSize: 10_000,
    jwksCooldownMs: 30_000,
    jwksCacheMaxAgeMs: 600_000,
    disabled: false,
    ...overrides,
  };
}

const tokens = new Map<string, Promise<string>>();

/** A token for `principal`, valid for an hour (cached per principal). */
export function tokenFor(principal: Principal): Promise<string> {
  const key = `${principal.role}:${principal.id}`;
  let token = tokens.get(key);
  if (!token) tokens.set(key, (token = testKeys().then((k) => k.signer.sign(principal, 3600))));
  return token;
}

/** `authorization` headers for `principal`. */
export async function authHeaders(principal: Principal): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await tokenFor(principal)}` };
}

/** An interceptor for network clients that sends `pick(method)`'s token, unless the call brings its own authorization. */
export function bearer(pick: Principal | ((method: DescMethod) => Principal)): Interceptor {
  const principalOf = typeof pick === "function" ? pick : () => pick;
  return (next) => async (req) => {
    if (!req.header.has("authorization")) req.header.set("authorization", `Bearer ${await tokenFor(principalOf(req.method))}`);
    return next(req);
  };
}

/** Every call through `transport` made by `pick(method)`. */
export function withPrincipal(transport: Transport, pick: Principal | ((method: DescMethod) => Principal)): Transport {
  const principalOf = typeof pick === "function" ? pick : () => pick;
  const headed = async (method: DescMethod, header: ConstructorParameters<typeof Headers>[0]) => {
    const h = new Headers(header);
    h.set("authorization", `Bearer ${await tokenFor(principalOf(method))}`);
    return h;
  };
  return {
    unary: async (method, signal, timeoutMs, header, input, contextValues) =>
      transport.unary(method, signal, timeoutMs, await headed(method, header), input, contextValues),
    stream: async (method, signal, timeoutMs, header, input, contextValues) =>
      transport.stream(method, signal, timeoutMs, await headed(method, header), input, contextValues),
  };
}

/**
 * A caller the method's access rule lets in: an admin where admins may call,
 * else the order module (service:orders, which owns the orders' stock
 * reservations). For tests about what a call does, not about who may make it.
 */
export function permittedPrincipal(method: DescMethod): Principal {
  const rule = ruleOf(method);
  if (rule?.roles.has("admin") || rule?.public) return ADMIN;
  if (rule?.roles.has("service")) return ORDERS;
  throw new Error(`no test principal may call ${method.name}`);
}

/** `transport` with every call made by a principal its method permits (permittedPrincipal). */
export const asPermitted = (transport: Transport): Transport => withPrincipal(transport, permittedPrincipal);
