/**
 * Demo identities for the browser console (web/, README "Use it from a
 * browser"): tokens for the demo VIP customer, the demo standard customer and
 * a staff user, signed with the development key — the banner's tokens, less
 * the admin's. The console asks for them at GET /console/demo-identities
 * (src/platform/web-console.ts), so a newcomer can click through without
 * pasting tokens. It sits by banner.ts: both know the demo data.
 *
 * Handing out tokens to whoever asks is only safe where nobody relies on
 * them, so a server offers them only as the zero-setup default runs: the embedded
 * database, the generated development key the only key trusted (no
 * AUTH_JWKS_URL, no AUTH_PUBLIC_KEYS), the default issuer and audience, and
 * authentication on. Any of those set means someone configured this server
 * for real (or for a shared trial, as docker-compose does with Postgres and
 * AUTH_DEV_KEYS=true), and the console then asks for a pasted token. Even
 * so, the endpoint answers only the console's own page on this machine
 * (web-console.ts): the default HOST listens on every interface.
 */
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, type Config } from "./config.js";
import { DEMO_CUSTOMERS } from "./customers/module.js";
import type { Principal } from "./kernel/principal.js";
import type { Auth } from "./platform/auth/setup.js";

/** How long a demo token lives; the console fetches new ones before they expire. */
export const DEMO_TOKEN_TTL_SECONDS = 3600;

export interface DemoIdentity {
  /** Stable key: "grace", "ada", "staff". */
  readonly key: string;
  readonly label: string;
  /** "VIP customer", "STANDARD customer", "staff". */
  readonly description: string;
  readonly role: "customer" | "staff";
  readonly customerId?: string;
  readonly subject?: string;
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

export interface DemoIdentities {
  /** The identities with tokens valid for at least half their lifetime yet. */
  issue(): Promise<readonly DemoIdentity[]>;
}

interface DemoPrincipal {
  readonly key: string;
  readonly label: string;
  readonly description: string;
  readonly principal: Principal;
}

/** The VIP customer first, then the others, then staff (subject demo-staff, as the banner's $STAFF). */
function demoPrincipals(withCustomers: boolean): DemoPrincipal[] {
  const customers = [...DEMO_CUSTOMERS]
    .sort((a, b) => Number(b.tier === "VIP") - Number(a.tier === "VIP"))
    .map((c) => ({
      key: c.displayName.split(" ")[0].toLowerCase(),
      label: c.displayName,
      description: `${c.tier ?? "STANDARD"} customer`,
      principal: { role: "customer" as const, id: c.id },
    }));
  return [...(withCustomers ? customers : []), { key: "staff", label: "Demo staff", description: "staff", principal: { role: "staff", id: "demo-staff" } }];
}

/** Why this server does not hand out demo identities, or undefined when it does (see the file comment). */
export function demoIdentitiesRefusal(config: Pick<Config, "databaseUrl" | "auth">, auth: Pick<Auth, "devSigner">): string | undefined {
  const a = config.auth;
  if (a.disabled) return "AUTH_DISABLED is set";
  if (!auth.devSigner || !a.devKeys) return "the development key is not in use";
  if (a.jwksUrl || a.publicKeyFiles.length > 0) return "token keys are configured (AUTH_JWKS_URL or AUTH_PUBLIC_KEYS)";
  if (config.databaseUrl) return "the service runs on a configured database (DATABASE_URL)";
  if (a.issuer !== DEFAULT_ISSUER || a.audience !== DEFAULT_AUDIENCE) return "AUTH_ISSUER or AUTH_AUDIENCE is configured";
  return undefined;
}

/**
 * The demo identities of this server, or undefined when it must not hand
 * them out. Customers are offered only when their demo records exist here
 * (seeded, customers hosted), as the banner does.
 */
export function createDemoIdentities(config: Pick<Config, "databaseUrl" | "auth" | "seedDemoData" | "services">, auth: Auth): DemoIdentities | undefined {
  const signer = auth.devSigner;
  if (!signer || demoIdentitiesRefusal(config, auth) !== undefined) return undefined;
  const principals = demoPrincipals(config.seedDemoData && config.services.includes("customers"));
  let issued: { identities: Promise<DemoIdentity[]>; renewAt: number } | undefined;
  const mint = async (): Promise<DemoIdentity[]> => {
    const expiresAt = new Date(Date.now() + DEMO_TOKEN_TTL_SECONDS * 1000).toISOString();
    return Promise.all(
      principals.map(async ({ key, label, description, principal }) => ({
        key,
        label,
        description,
        role: principal.role as DemoIdentity["role"],
        ...(principal.role === "customer" ? { customerId: principal.id } : { subject: principal.id }),
        token: await signer.sign(principal, DEMO_TOKEN_TTL_SECONDS),
        expiresAt,
      })),
    );
  };
  return {
    // The same tokens until half their lifetime is gone (they stay in the verifier's cache).
    issue() {
      const now = Date.now();
      if (!issued || now >= issued.renewAt) {
        const identities = mint();
        issued = { identities, renewAt: now + (DEMO_TOKEN_TTL_SECONDS * 1000) / 2 };
        identities.catch(() => (issued = undefined));
      }
      return issued.identities;
    },
  };
}
