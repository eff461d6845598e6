/**
 * claims.ts: token claims -> Principal for every role, the rejections
 * (TOKEN_CLAIMS_INVALID with a message that never echoes a claim), and the
 * inverse used for signing.
 */
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { ANONYMOUS, type Principal } from "../../../src/kernel/principal.js";
import { claimsOf, principalFromClaims } from "../../../src/platform/auth/claims.js";
import { CUSTOMER_ID } from "./support.js";

function rejection(claims: Record<string, unknown>): DomainError {
  try {
    principalFromClaims(claims);
  } catch (e) {
    return e as DomainError;
  }
  throw new Error("expected TOKEN_CLAIMS_INVALID");
}

describe("principalFromClaims", () => {
  it.each<[Record<string, unknown>, Principal]>([
    [{ role: "customer", customer_id: CUSTOMER_ID, sub: `customer:${CUSTOMER_ID}` }, { role: "customer", id: CUSTOMER_ID }],
    [{ role: "customer", customer_id: CUSTOMER_ID.toUpperCase() }, { role: "customer", id: CUSTOMER_ID }],
    [{ role: "staff", sub: "alice@example.com" }, { role: "staff", id: "alice@example.com" }],
    [{ role: "admin", sub: "root-1" }, { role: "admin", id: "root-1" }],
    [{ role: "service", sub: "warehouse" }, { role: "service", id: "warehouse" }],
  ])("maps %o", (claims, principal) => {
    const p = principalFromClaims(claims);
    expect(p).toEqual(principal);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ["no role", { sub: "alice" }],
    ["an unknown role", { role: "root", sub: "alice" }],
    ["role anonymous", { role: "anonymous", sub: "alice" }],
    ["a non-string role", { role: ["staff"], sub: "alice" }],
    ["a customer without customer_id", { role: "customer", sub: "customer:x" }],
    ["a customer with a non-UUID customer_id", { role: "customer", customer_id: "not-a-uuid-at-all" }],
    ["a customer with a UUID and trailing junk", { role: "customer", customer_id: `${CUSTOMER_ID}x` }],
    ["staff without sub", { role: "staff" }],
    ["staff with a space in sub", { role: "staff", sub: "alice smith" }],
    ["admin with a 129-character sub", { role: "admin", sub: "a".repeat(129) }],
    ["service with an upper-case name", { role: "service", sub: "Orders" }],
    ["service with an empty name", { role: "service", sub: "" }],
    ["service with a number sub", { role: "service", sub: 42 }],
  ])("rejects %s as TOKEN_CLAIMS_INVALID", (_label, claims) => {
    const e = rejection(claims);
    expect(e).toBeInstanceOf(DomainError);
    expect(e.kind).toBe("UNAUTHENTICATED");
    expect(e.reason).toBe("TOKEN_CLAIMS_INVALID");
    const { role: _role, ...echoable } = claims;
    for (const value of Object.values(echoable)) {
      if (typeof value === "string" && value.length > 3) expect(e.message).not.toContain(value);
    }
  });
});

describe("claimsOf", () => {
  it("spells each role the way principalFromClaims reads it", () => {
    const principals: Principal[] = [
      { role: "customer", id: CUSTOMER_ID },
      { role: "staff", id: "alice" },
      { role: "admin", id: "bob" },
      { role: "service", id: "orders" },
    ];
    for (const p of principals) expect(principalFromClaims({ ...claimsOf(p) })).toEqual(p);
    expect(claimsOf({ role: "customer", id: CUSTOMER_ID })).toEqual({
      role: "customer",
      sub: `customer:${CUSTOMER_ID}`,
      customer_id: CUSTOMER_ID,
    });
    expect(claimsOf({ role: "service", id: "orders" })).toEqual({ role: "service", sub: "orders" });
  });

  it("refuses anonymous and ids a role does not allow", () => {
    expect(() => claimsOf(ANONYMOUS)).toThrow(/anonymous/);
    expect(() => claimsOf({ role: "customer", id: CUSTOMER_ID.toUpperCase() })).toThrow(/UUID/);
    expect(() => claimsOf({ role: "service", id: "Bad Name" })).toThrow(/SERVICE_NAME/);
    expect(() => claimsOf({ role: "staff", id: "" })).toThrow(/SUBJECT/);
  });
});
