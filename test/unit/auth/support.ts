/**
 * Shared helpers for the auth suite: real key pairs from jose's
 * generateKeyPair, tokens signed with them, a tiny JWKS HTTP server, and an
 * assertion for DomainError kind + reason. No mocks: every token here is a
 * real JWT checked by the real jose.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { expect } from "vitest";
import { DomainError, type ErrorKind } from "../../../src/kernel/errors.js";
import type { KeySource, SigningAlgorithm } from "../../../src/platform/auth/keys.js";

export const ISSUER = "https://idp.example.test";
export const AUDIENCE = "order-service";
export const CUSTOMER_ID = "4f0c8a7e-2b1d-4c3e-9a8b-7d6e5f4a3b2c";

export interface TestKey {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK with its kid (no alg: the loader derives it). */
  readonly publicJwk: JWK;
}

export async function testKey(alg: SigningAlgorithm, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid } };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A token signed by `key`: by default a staff token for "alice" from ISSUER to
 * AUDIENCE, valid 5 minutes. `claims` override (undefined removes a claim);
 * `header` overrides the protected header (e.g. { kid: undefined }).
 */
export async function signToken(
  key: { alg: string; kid?: string; privateKey: CryptoKey | Uint8Array },
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const iat = nowSeconds();
  const all: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, iat, exp: iat + 300, role: "staff", sub: "alice", ...claims };
  const payload = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as JWTPayload;
  const protectedHeader = JSON.parse(JSON.stringify({ alg: key.alg, kid: key.kid, ...header }));
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

/** An unsigned token built by hand: base64url(header).base64url(payload).signature */
export function handBuiltToken(header: object, payload: object, signature = ""): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part(header)}.${part(payload)}.${signature}`;
}

/** Awaits a rejection and checks it is a DomainError of this kind and reason. */
export async function expectDomainError(promise: Promise<unknown>, kind: ErrorKind, reason: string): Promise<DomainError> {
  const error = await promise.then(
    () => new Error("expected a DomainError, but it resolved"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  const { kind: actualKind, reason: actualReason } = error as DomainError;
  expect({ kind: actualKind, reason: actualReason }).toEqual({ kind, reason });
  return error as DomainError;
}

export const expectUnauthenticated = (promise: Promise<unknown>, reason: string) =>
  expectDomainError(promise, "UNAUTHENTICATED", reason);

/** A key source that counts resolves and delegates to whichever source is current. */
export function switchableSource(initial: KeySource) {
  let current = initial;
  const state = {
    calls: 0,
    use(next: KeySource) {
      current = next;
    },
    source: {
      resolve: (header) => {
        state.calls += 1;
        return current.resolve(header);
      },
    } satisfies KeySource as KeySource,
  };
  return state;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A real HTTP server serving whatever `respond` says; counts requests. */
export interface JwksServer {
  readonly url: string;
  requests: number;
  /** Status and body of the next responses; `hang` never answers. */
  respond: { status: number; body: string } | "hang";
  serve(jwks: { keys: JWK[] }): void;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const server: Server = createServer((_req, res) => {
    state.requests += 1;
    const r = state.respond;
    if (r === "hang") return;
    res.writeHead(r.status, { "content-type": "application/json" }).end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const state: JwksServer = {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: 0,
    respond: { status: 200, body: '{"keys":[]}' },
    serve(jwks) {
      state.respond = { status: 200, body: JSON.stringify(jwks) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}
