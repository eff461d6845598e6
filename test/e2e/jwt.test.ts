/**
 * The JWT suite end to end: the whole app trusting an identity provider's
 * JWKS URL (a real HTTP server here, rotated while the app runs), called over
 * gRPC and Connect JSON with good and bad tokens. The verifier's own unit
 * suite (test/unit/auth) covers each case in depth; this proves the wiring —
 * every bad token is UNAUTHENTICATED with its reason on both transports,
 * nothing is written, and rotation works without a restart.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerStatus } from "../../gen/customers/v1/customer_service_pb.js";
import { testAuthConfig } from "../support/auth.js";
import { clientsOver, WIRES } from "../support/clients.js";
import { reasonOf, rpcFailure } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";
import { handBuiltToken, nowSeconds, signToken, startJwksServer, testKey, type JwksServer, type TestKey } from "../unit/auth/support.js";

const ISSUER = "https://idp.example.test";
const AUDIENCE = "order-service";

let stack: TestStack;
let idp: JwksServer;
let keyA: TestKey;
let keyB: TestKey;
let adminHeaders: Record<string, string>;

beforeAll(async () => {
  [keyA, keyB] = await Promise.all([testKey("ES256", "key-a"), testKey("RS256", "key-b")]);
  idp = await startJwksServer();
  idp.serve({ keys: [keyA.publicJwk] });
  const base = await testAuthConfig();
  stack = await startTestStack({
    config: { auth: { ...base, publicKeyFiles: [], issuer: ISSUER, audience: AUDIENCE, jwksUrl: idp.url, jwksCooldownMs: 0 } },
  });
  adminHeaders = { authorization: `Bearer ${await signToken(keyA, { role: "admin", sub: "idp-admin" })}` };
});
afterAll(async () => {
  await stack?.close();
  await idp?.close();
});

const customerToken = (key: TestKey, customerId: string, claims: Record<string, unknown> = {}) =>
  signToken(key, { role: "customer", sub: `user-${customerId}`, customer_id: customerId, ...claims });

describe.each(WIRES)("over %s", (wire) => {
  const anonymous = () => clientsOver(stack, wire);
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  async function newCustomer(status = CustomerStatus.ACTIVE) {
    const { customers } = anonymous();
    const { customer } = await customers.createCustomer({ email: `jwt-${Math.random()}@example.com`, displayName: "J" }, { headers: adminHeaders });
    if (status !== CustomerStatus.ACTIVE) await customers.updateCustomer({ customerId: customer!.id, status }, { headers: adminHeaders });
    return customer!.id;
  }

  it("accepts a valid token from the identity provider", async () => {
    const id = await newCustomer();
    const res = await anonymous().customers.getCustomer({ customerId: id }, bearer(await customerToken(keyA, id)));
    expect(res.customer?.id).toBe(id);
  });

  const BAD_TOKENS: readonly (readonly [string, () => Promise<string>, string])[] = [
    ["expired", () => signToken(keyA, { exp: nowSeconds() - 3600 }), "TOKEN_EXPIRED"],
    ["not yet valid", () => signToken(keyA, { nbf: nowSeconds() + 3600 }), "TOKEN_NOT_YET_VALID"],
    ["alg none", async () => handBuiltToken({ alg: "none" }, { iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 60, role: "admin", sub: "x" }), "TOKEN_INVALID"],
    [
      "HS256 signed with the public key",
      async () => signToken({ alg: "HS256", kid: "key-a", privateKey: new TextEncoder().encode(JSON.stringify(keyA.publicJwk)) }, { role: "admin" }),
      "TOKEN_INVALID",
    ],
    ["wrong issuer", () => signToken(keyA, { iss: "https://evil.example" }), "TOKEN_CLAIMS_INVALID"],
    ["wrong audience", () => signToken(keyA, { aud: "another-service" }), "TOKEN_CLAIMS_INVALID"],
    ["unknown kid", () => signToken({ ...keyA, kid: "key-z" }), "TOKEN_KEY_UNKNOWN"],
    ["truncated", async () => (await signToken(keyA)).slice(0, -20), "TOKEN_INVALID"],
    ["garbage", async () => "not.a.jwt", "TOKEN_INVALID"],
  ];
  it.each(BAD_TOKENS)("refuses a %s token with UNAUTHENTICATED", async (_, token, reason) => {
    const t = await token();
    const err = await rpcFailure(anonymous().customers.listCustomers({}, bearer(t)));
    expect([Code[err.code], reasonOf(err)]).toEqual(["Unauthenticated", reason]);
    expect(err.rawMessage).not.toContain(t.slice(0, 20));
    // Even a public method refuses a token that does not verify.
    expect(Code[(await rpcFailure(anonymous().inventory.listProducts({}, bearer(t)))).code]).toBe("Unauthenticated");
  });

  it("lets a suspended customer read their own record but not order", async () => {
    const id = await newCustomer(CustomerStatus.SUSPENDED);
    const token = await customerToken(keyA, id);
    expect((await anonymous().customers.getCustomer({ customerId: id }, bearer(token))).customer?.status).toBe(CustomerStatus.SUSPENDED);
    const err = await rpcFailure(
      anonymous().orders.createOrder({ customerId: id, requestId: "s-1", items: [{ productId: "00000000-0000-4000-8000-000000000001", quantity: 1 }] }, bearer(token)),
    );
    expect([Code[err.code], reasonOf(err)]).toEqual(["FailedPrecondition", "CUSTOMER_INACTIVE"]);
  });
});

it("follows the identity provider's key rotation while running", async () => {
  const client = clientsOver(stack, "grpc").customers;
  const id = (await client.createCustomer({ email: `rot-${Date.now()}@example.com`, displayName: "R" }, { headers: adminHeaders })).customer!.id;
  const call = async (token: string) => client.getCustomer({ customerId: id }, { headers: { authorization: `Bearer ${token}` } });
  expect((await call(await customerToken(keyA, id))).customer?.id).toBe(id);
  idp.serve({ keys: [keyB.publicJwk] });
  // A token of the new key: its kid is unknown, so the JWKS is fetched again.
  expect((await call(await customerToken(keyB, id))).customer?.id).toBe(id);
  // A new token of the retired key is refused (one verified before stays cached until its exp).
  const err = await rpcFailure(call(await customerToken(keyA, id, { jti: "after-rotation" })));
  expect([Code[err.code], reasonOf(err)]).toEqual(["Unauthenticated", "TOKEN_KEY_UNKNOWN"]);
});
