/**
 * Who makes a call. Every call has exactly one principal: verified from a
 * bearer token, asserted by a co-hosted service calling in process, or
 * anonymous when no credentials came with it. Pure data: the platform
 * authenticates, the access rules (proto/access/v1) authorize, use cases read
 * it to scope what a customer may see.
 */
export const ROLES = ["customer", "staff", "admin", "service"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly role: Role | "anonymous";
  /**
   * customer: the customer id (a lower-case UUID); staff and admin: the
   * token's subject; service: the service's name ("orders", "warehouse");
   * anonymous: "".
   */
  readonly id: string;
}

export const ANONYMOUS: Principal = Object.freeze({ role: "anonymous", id: "" });

export const servicePrincipal = (name: string): Principal => Object.freeze({ role: "service", id: name });

/** The principal as it is written in history and logs: `customer:<id>`, `staff:<sub>`, `service:<name>`, `anonymous`. */
export function principalLabel(p: Principal): string {
  return p.role === "anonymous" ? "anonymous" : `${p.role}:${p.id}`;
}

/** The customer a caller is limited to: their own id for a customer, undefined (no limit) for anyone else. */
export function customerScope(p: Principal): string | undefined {
  return p.role === "customer" ? p.id : undefined;
}

/** Service names: lower-case letters, digits and '-', starting with a letter, at most 63 characters. */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Staff and admin subjects: 1 to 128 visible ASCII characters. */
export const SUBJECT = /^[\x21-\x7e]{1,128}$/;

/** A lower-case UUID (customer ids). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
