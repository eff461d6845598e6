/**
 * Prints a bearer token signed by the development key in DATA_DIR (created
 * if missing), for the issuer and audience the server expects
 * (AUTH_ISSUER, AUTH_AUDIENCE). The token is the last line on stdout, alone:
 *
 *   npm run token -- --role <customer|staff|admin|service> [--customer <id>] [--name <service>] [--ttl <duration>]
 *   TOKEN=$(npm run -s token -- --role admin)
 *
 * --customer is the customer's id (customer tokens); --name the service's
 * name (service tokens) or the subject of a staff or admin token (default
 * "dev-staff" / "dev-admin"); --ttl how long it is valid: 90s, 15m, 1h
 * (the default), 7d, or plain seconds, at most 30 days.
 */
import { parseArgs } from "node:util";
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, redactUrl } from "../src/config.js";
import { ROLES, SERVICE_NAME, SUBJECT, UUID, type Principal, type Role } from "../src/kernel/principal.js";
import { ensureDevKeys } from "../src/platform/auth/dev-keys.js";
import { createTokenSigner } from "../src/platform/auth/token-signer.js";

const USAGE =
  "usage: npm run token -- --role <customer|staff|admin|service> [--customer <id>] [--name <service>] [--ttl <duration>]";
const MAX_TTL_SECONDS = 30 * 86400;

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** "90s", "15m", "1h", "7d" or plain seconds → seconds. */
function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) fail(`--ttl must look like 90s, 15m, 1h or 7d, got "${text}"`);
  const seconds = Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  if (seconds < 1 || seconds > MAX_TTL_SECONDS) fail(`--ttl must be from 1 second to 30 days, got "${text}"`);
  return seconds;
}

function principalOf(role: string | undefined, customer: string | undefined, name: string | undefined): Principal {
  if (role === undefined) fail("--role is required");
  if (!(ROLES as readonly string[]).includes(role)) fail(`--role must be one of ${ROLES.join(", ")}, got "${role}"`);
  switch (role as Role) {
    case "customer": {
      const id = customer?.toLowerCase();
      if (!id || !UUID.test(id)) fail("a customer token needs --customer <customer id> (a UUID)");
      return { role: "customer", id };
    }
    case "service":
      if (!name || !SERVICE_NAME.test(name)) fail("a service token needs --name <service> (lower-case letters, digits, '-')");
      return { role: "service", id: name };
    default: {
      const subject = name ?? `dev-${role}`;
      if (!SUBJECT.test(subject)) fail("--name must be 1 to 128 visible ASCII characters");
      return { role: role as Role, id: subject };
    }
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { role: { type: "string" }, customer: { type: "string" }, name: { type: "string" }, ttl: { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const principal = principalOf(values.role, values.customer, values.name);
  const ttl = parseDuration(values.ttl ?? "1h");
  const env = process.env;
  const keys = await ensureDevKeys(env.DATA_DIR || "./.data");
  if (env.DATABASE_URL && !/^(1|true|yes|on)$/i.test(env.AUTH_DEV_KEYS ?? "")) {
    process.stderr.write(
      `token: note: with DATABASE_URL set (${redactUrl(env.DATABASE_URL)}) the server trusts this development key only when AUTH_DEV_KEYS=true\n`,
    );
  }
  const signer = createTokenSigner({
    privateKey: keys.privateKey,
    kid: keys.kid,
    alg: keys.alg,
    issuer: env.AUTH_ISSUER || DEFAULT_ISSUER,
    audience: env.AUTH_AUDIENCE || DEFAULT_AUDIENCE,
  });
  process.stdout.write(`${await signer.sign(principal, ttl)}\n`);
}

await main();
