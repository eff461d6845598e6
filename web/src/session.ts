/**
 * Who the page calls as. An identity is a bearer token and what its claims
 * say (role, customer id or subject, expiry), decoded here only to show them
 * and to pick the view: the service verifies every token itself.
 *
 * Demo identities come from GET /console/demo-identities, which a local
 * zero-setup server answers with tokens signed by its development key
 * (src/platform/auth/demo-tokens.ts); anywhere else it says no, and a token
 * is pasted instead. Tokens live in this page's memory only.
 */

const DEMO_IDENTITIES_PATH = "/console/demo-identities";

export type Role = "anonymous" | "customer" | "staff" | "admin" | "service";

export interface Identity {
  /** What the page shows: "Grace Hopper", "staff demo-staff", … */
  readonly label: string;
  readonly role: Role;
  readonly customerId?: string;
  /** Staff, admin and service tokens: the subject. */
  readonly subject?: string;
  readonly token?: string;
  readonly expiresAt?: Date;
  /** A demo identity's key (its token is fetched again before it expires). */
  readonly demoKey?: string;
  /** "VIP customer", "staff", … */
  readonly description?: string;
}

export const ANONYMOUS: Identity = { label: "anonymous", role: "anonymous" };

interface DemoIdentityJson {
  key: string;
  label: string;
  description: string;
  role: Role;
  customerId?: string;
  subject?: string;
  token: string;
  expiresAt: string;
}

export type DemoIdentities = { offered: true; identities: Identity[] } | { offered: false; message: string };

export async function fetchDemoIdentities(): Promise<DemoIdentities> {
  const res = await fetch(DEMO_IDENTITIES_PATH, { cache: "no-store", headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => ({}))) as { identities?: DemoIdentityJson[]; message?: string };
  if (!res.ok || !body.identities?.length) return { offered: false, message: body.message ?? `the server answered ${res.status}` };
  return {
    offered: true,
    identities: body.identities.map((d) => ({
      label: d.label,
      description: d.description,
      role: d.role,
      customerId: d.customerId,
      subject: d.subject,
      token: d.token,
      expiresAt: new Date(d.expiresAt),
      demoKey: d.key,
    })),
  };
}

/** An identity from a pasted token's claims (unverified: only the service decides what it may do). */
export function identityFromToken(raw: string): Identity {
  const token = raw.trim().replace(/^Bearer\s+/i, "");
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("that is not a JWT (three base64url parts separated by dots)");
  let claims: { role?: unknown; customer_id?: unknown; sub?: unknown; exp?: unknown };
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch {
    throw new Error("that token's payload is not base64url JSON");
  }
  const role = (["customer", "staff", "admin", "service"] as const).find((r) => r === claims.role);
  if (!role) throw new Error(`that token's role claim is ${JSON.stringify(claims.role)}, not customer, staff, admin or service`);
  const customerId = typeof claims.customer_id === "string" ? claims.customer_id : undefined;
  const subject = typeof claims.sub === "string" ? claims.sub : undefined;
  return {
    label: "Pasted token",
    description: role,
    role,
    customerId,
    subject,
    token,
    expiresAt: typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined,
  };
}

/** A demo token this close to its expiry is fetched again before the next call. */
const RENEW_BEFORE_MS = 2 * 60_000;

export interface Session {
  readonly current: Identity;
  use(identity: Identity): void;
  /** Called after every change of identity. */
  onChange(listener: (identity: Identity) => void): void;
  /** The token to send now, renewing a demo identity's when it is about to expire. */
  token(): Promise<string | undefined>;
}

export function createSession(): Session {
  let current = ANONYMOUS;
  const listeners: ((identity: Identity) => void)[] = [];
  let renewing: Promise<void> | undefined;
  const renew = async (key: string) => {
    const demo = await fetchDemoIdentities();
    const fresh = demo.offered ? demo.identities.find((i) => i.demoKey === key) : undefined;
    if (fresh && current.demoKey === key) current = fresh;
  };
  return {
    get current() {
      return current;
    },
    use(identity) {
      current = identity;
      for (const l of listeners) l(identity);
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async token() {
      const { demoKey, expiresAt } = current;
      if (demoKey && expiresAt && expiresAt.getTime() - Date.now() < RENEW_BEFORE_MS) {
        await (renewing ??= renew(demoKey).finally(() => (renewing = undefined)));
      }
      return current.token;
    },
  };
}
