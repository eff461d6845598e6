/**
 * Access rules: read once per method from the `(access.v1.rule)` option in
 * the protos (proto/access/v1/access.proto), enforced by wrapService on every
 * call. Services whose protos we do not own (grpc.health.v1) get their rule
 * here, in PLATFORM_RULES. A method with no rule is refused (default deny);
 * test/unit/platform/access-rules.test.ts fails if a served method lacks one.
 *
 * The wrapper checks what the request alone decides — the caller's role and
 * the fields only some roles may set. What depends on stored data — that an
 * order or a customer record is the caller's own (CUSTOMER_SCOPE_OWN), that a
 * reservation is the caller's (caller_owned) — the use cases check, with the
 * principal in their CallContext, because only they have the data.
 */
import {
  getOption,
  hasOption,
  isFieldSet,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageShape,
} from "@bufbuild/protobuf";
import { CustomerScope, Role as PbRole, rule as ruleOption } from "../../gen/access/v1/access_pb.js";
import { permissionDenied, unauthenticated } from "../kernel/errors.js";
import { ROLES, type Principal, type Role } from "../kernel/principal.js";

export interface FieldRule {
  readonly field: DescField;
  readonly roles: ReadonlySet<Role>;
}

export interface MethodRule {
  /** Anyone, without credentials. */
  readonly public: boolean;
  readonly roles: ReadonlySet<Role>;
  /** Customers reach only what is theirs. */
  readonly customerScope: "own" | undefined;
  /** What the call works on belongs to the principal that made it. */
  readonly callerOwned: boolean;
  readonly fieldGrants: readonly FieldRule[];
}

const ROLE_OF: Record<PbRole, Role | undefined> = {
  [PbRole.UNSPECIFIED]: undefined,
  [PbRole.CUSTOMER]: "customer",
  [PbRole.STAFF]: "staff",
  [PbRole.ADMIN]: "admin",
  [PbRole.SERVICE]: "service",
};

const PUBLIC: MethodRule = Object.freeze({
  public: true,
  roles: new Set<Role>(),
  customerScope: undefined,
  callerOwned: false,
  fieldGrants: [],
});

/** Rules of the services we serve but whose protos are not ours: health stays anonymous. */
const PLATFORM_RULES: Readonly<Record<string, MethodRule>> = {
  "grpc.health.v1.Health": PUBLIC,
};

const roleSet = (roles: readonly PbRole[]) => new Set(roles.map((r) => ROLE_OF[r]).filter((r): r is Role => r !== undefined));

/** The rule of `method`, or undefined when it has none (every call is then refused). Throws on a malformed rule. */
export function ruleOf(method: DescMethod): MethodRule | undefined {
  const platform = PLATFORM_RULES[method.parent.typeName];
  if (platform) return platform;
  if (!hasOption(method, ruleOption)) return undefined;
  const r = getOption(method, ruleOption);
  const roles = roleSet(r.roles);
  const where = `${method.parent.typeName}/${method.name}`;
  if (roles.has("customer") && r.customerScope !== CustomerScope.OWN) {
    throw new Error(`${where}: a rule granting ROLE_CUSTOMER must set customer_scope`);
  }
  if (!r.public && roles.size === 0) throw new Error(`${where}: a rule must be public or name roles`);
  const fieldGrants = r.fieldGrants.map((g) => {
    const field = method.input.fields.find((f) => f.name === g.field);
    if (!field) throw new Error(`${where}: field_grants names ${g.field}, which ${method.input.typeName} lacks`);
    return { field, roles: roleSet(g.roles) };
  });
  return {
    public: r.public,
    roles,
    customerScope: r.customerScope === CustomerScope.OWN ? "own" : undefined,
    callerOwned: r.callerOwned,
    fieldGrants,
  };
}

/**
 * Throws unless `principal` may make this call with this request: UNAUTHENTICATED
 * for an anonymous caller of a non-public method, PERMISSION_DENIED for a caller
 * of another role or one setting a field its role may not.
 */
export function authorize(rule: MethodRule | undefined, principal: Principal, request: MessageShape<DescMessage>): void {
  if (rule === undefined) {
    if (principal.role === "anonymous") throw credentialsRequired();
    throw permissionDenied("NO_ACCESS_RULE", "this method has no access rule, so nobody may call it");
  }
  if (!rule.public) {
    if (principal.role === "anonymous") throw credentialsRequired();
    if (!rule.roles.has(principal.role)) {
      throw permissionDenied("ROLE_NOT_PERMITTED", `the ${principal.role} role may not call this method`, { role: principal.role });
    }
  }
  for (const grant of rule.fieldGrants) {
    if (principal.role !== "anonymous" && grant.roles.has(principal.role)) continue;
    if (isFieldSet(request, grant.field)) {
      throw permissionDenied("FIELD_NOT_PERMITTED", `the ${principal.role} role may not set ${grant.field.name}`, {
        field: grant.field.name,
      });
    }
  }
}

const credentialsRequired = () =>
  unauthenticated("CREDENTIALS_REQUIRED", "this method needs credentials: send an authorization: Bearer <token> header");

const ROLE_LABEL: Readonly<Record<Role | "anonymous", string>> = {
  anonymous: "anonymous",
  customer: "customer",
  staff: "staff",
  admin: "admin",
  service: "service",
};

/** The access matrix of `services` as a Markdown table (printed into the README; a test keeps the copy equal). */
export function accessMatrixMarkdown(services: readonly DescService[]): string {
  const columns = ["anonymous", ...ROLES] as const;
  const header = `| RPC | ${columns.map((c) => ROLE_LABEL[c]).join(" | ")} | notes |`;
  const rows = services.flatMap((s) =>
    s.methods.map((m) => {
      const rule = ruleOf(m);
      const cell = (c: (typeof columns)[number]) => {
        if (!rule) return "—";
        if (rule.public) return "✓";
        if (c === "anonymous" || !rule.roles.has(c)) return "—";
        if (c === "customer" && rule.customerScope === "own") return "own";
        if (rule.callerOwned) return "own";
        return "✓";
      };
      const notes = [
        rule?.public ? "public: no credentials needed" : undefined,
        rule?.callerOwned ? "only what the caller made; another's is NOT_FOUND" : undefined,
        ...(rule?.fieldGrants ?? []).map((g) => `${g.field.name}: ${[...g.roles].join(", ")} only`),
        rule ? undefined : "no rule: refused",
      ].filter(Boolean);
      return `| ${s.name}.${m.name} | ${columns.map(cell).join(" | ")} | ${notes.join("; ")} |`;
    }),
  );
  return [header, `| --- | ${columns.map(() => "---").join(" | ")} | --- |`, ...rows].join("\n");
}
