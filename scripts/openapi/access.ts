/**
 * Who may call a method: its `(access.v1.rule)` option (proto/access/v1/access.proto),
 * read the way src/platform/access.ts reads it, for the operation's security
 * requirement, its `x-access` extension and a line of its description.
 */
import type { DescMethod, Registry } from "@bufbuild/protobuf";
import { optionJson } from "./proto-text.js";

export type Role = "customer" | "staff" | "admin" | "service";

export interface AccessRule {
  readonly public: boolean;
  readonly roles: readonly Role[];
  /** Customers reach only their own records and orders. */
  readonly customerScope?: "own";
  /** What the call works on belongs to the caller that made it (stock reservations). */
  readonly callerOwned?: true;
  /** Request fields (JSON names) only some of the roles may set. */
  readonly fieldGrants?: readonly { readonly field: string; readonly roles: readonly Role[] }[];
}

/**
 * Services we serve whose protos are not ours, so they carry no rule: their
 * rules are src/platform/access.ts's PLATFORM_RULES (anonymous). They are
 * not rate limited and touch no database.
 */
export const PLATFORM_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

const roleOf = (name: unknown): Role => String(name).replace(/^ROLE_/, "").toLowerCase() as Role;

/** The method's rule; undefined when it has none (every call is refused). */
export function accessRuleOf(registry: Registry, method: DescMethod): AccessRule | undefined {
  if (PLATFORM_SERVICES.has(method.parent.typeName)) return { public: true, roles: [] };
  const r = optionJson(registry, method, "access.v1.rule");
  if (!r) return undefined;
  const grants = (r.fieldGrants ?? []) as { field: string; roles?: string[] }[];
  return {
    public: r.public === true,
    roles: ((r.roles ?? []) as string[]).map(roleOf),
    ...(r.customerScope === "CUSTOMER_SCOPE_OWN" && { customerScope: "own" as const }),
    ...(r.callerOwned === true && { callerOwned: true as const }),
    ...(grants.length > 0 && {
      fieldGrants: grants.map((g) => ({ field: method.input.fields.find((f) => f.name === g.field)?.jsonName ?? g.field, roles: (g.roles ?? []).map(roleOf) })),
    }),
  };
}

/** The rule as a sentence of markdown. */
export function accessText(rule: AccessRule | undefined): string {
  if (!rule) return "**Access:** none — the method has no access rule, so every call is refused (`permission_denied` `NO_ACCESS_RULE`).";
  if (rule.public) return "**Access:** public — no token needed (a token that is sent must still be valid).";
  const who = rule.roles.map((r) => (r === "customer" && rule.customerScope === "own" ? "customer (only their own)" : r === "service" && rule.callerOwned ? "service (only what it made)" : r));
  const grants = (rule.fieldGrants ?? []).map((g) => `\`${g.field}\` only by ${g.roles.join(", ")}`);
  return `**Access:** bearer token of ${who.join(", ")}.${grants.length > 0 ? ` Fields: ${grants.join("; ")}.` : ""}`;
}
