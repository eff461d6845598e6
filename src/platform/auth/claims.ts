/**
 * Token claims <-> Principal. The one place that knows how our bearer JWTs
 * spell a caller, so the verifier and the signer cannot drift apart.
 *
 *   principalFromClaims(claims: JWTPayload): Principal
 *     role "customer"       -> { role, id: customer_id lower-cased } (customer_id: a UUID, any case)
 *     role "staff"/"admin"  -> { role, id: sub }  (sub matches SUBJECT)
 *     role "service"        -> { role, id: sub }  (sub matches SERVICE_NAME)
 *     anything else         -> unauthenticated TOKEN_CLAIMS_INVALID (fixed message, never a claim value)
 *   claimsOf(principal: Principal): TokenClaims   the inverse, for signing
 *     customer -> { role, sub: "customer:<id>", customer_id: id }; others -> { role, sub: id }
 *
 * iss/aud/exp/nbf are not checked here: jose checks them in jwt-verifier.ts.
 */
import type { JWTPayload } from "jose";
import { unauthenticated } from "../../kernel/errors.js";
import { ROLES, SERVICE_NAME, SUBJECT, UUID, type Principal, type Role } from "../../kernel/principal.js";

/** The claims this service reads and writes besides the registered ones (iss, aud, exp, nbf, iat). */
export interface TokenClaims {
  readonly role: Role;
  readonly sub: string;
  /** Customer tokens only: the customer's id (a lower-case UUID). */
  readonly customer_id?: string;
}

const UUID_ANY_CASE = new RegExp(UUID.source, "i");

const invalid = (message: string) => unauthenticated("TOKEN_CLAIMS_INVALID", message);

const isRole = (value: unknown): value is Role => typeof value === "string" && (ROLES as readonly string[]).includes(value);

/** The caller a verified token speaks for. Throws unauthenticated TOKEN_CLAIMS_INVALID when the claims do not name one. */
export function principalFromClaims(claims: JWTPayload): Principal {
  const { role, sub } = claims;
  if (!isRole(role)) throw invalid("token role is missing or not recognised");
  switch (role) {
    case "customer": {
      const customerId = claims["customer_id"];
      if (typeof customerId !== "string" || !UUID_ANY_CASE.test(customerId)) {
        throw invalid("customer token needs a UUID customer_id");
      }
      return Object.freeze({ role, id: customerId.toLowerCase() });
    }
    case "staff":
    case "admin":
      if (typeof sub !== "string" || !SUBJECT.test(sub)) throw invalid("token subject is missing or not valid");
      return Object.freeze({ role, id: sub });
    case "service":
      if (typeof sub !== "string" || !SERVICE_NAME.test(sub)) throw invalid("service token needs a valid service name");
      return Object.freeze({ role, id: sub });
  }
}

/**
 * The claims to sign for a principal. Throws (a plain Error: a programming
 * mistake, not a caller's) for anonymous or an id its role does not allow.
 */
export function claimsOf(principal: Principal): TokenClaims {
  const { role, id } = principal;
  switch (role) {
    case "customer":
      if (!UUID.test(id)) throw new Error("claimsOf: a customer principal's id must be a lower-case UUID");
      return { role, sub: `customer:${id}`, customer_id: id };
    case "staff":
    case "admin":
      if (!SUBJECT.test(id)) throw new Error(`claimsOf: a ${role} principal's id must match SUBJECT`);
      return { role, sub: id };
    case "service":
      if (!SERVICE_NAME.test(id)) throw new Error("claimsOf: a service principal's id must match SERVICE_NAME");
      return { role, sub: id };
    default:
      throw new Error("claimsOf: an anonymous principal has no token");
  }
}
