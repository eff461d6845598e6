/**
 * What `npm start` prints once it listens: where it is, how callers are
 * authenticated, and — with the development key — ready-to-paste tokens for
 * the demo customers, a staff user and an admin, and commands to try.
 */
import type { Config } from "./config.js";
import { DEMO_CUSTOMERS } from "./customers/module.js";
import { DEMO_PRODUCTS } from "./inventory/module.js";
import type { Principal } from "./kernel/principal.js";
import type { Auth } from "./platform/auth/setup.js";
import { natsNames } from "./platform/events/nats-publisher.js";

/** Lifetime of the banner's tokens; `npm run token` mints more. */
export const BANNER_TOKEN_TTL_SECONDS = 24 * 3600;

/** One token per demo customer ($ADA, $GRACE: the first name), a staff user and an admin. */
const DEMO_TOKENS: readonly { name: string; principal: Principal; note: string }[] = [
  ...DEMO_CUSTOMERS.map((c) => ({
    name: c.displayName.split(" ")[0].toUpperCase(),
    principal: { role: "customer" as const, id: c.id },
    note: `customer ${c.displayName} (${c.tier ?? "STANDARD"}), ${c.id}`,
  })),
  { name: "STAFF", principal: { role: "staff", id: "demo-staff" }, note: "staff" },
  { name: "ADMIN", principal: { role: "admin", id: "demo-admin" }, note: "admin" },
];
const VIP = DEMO_CUSTOMERS.find((c) => c.tier === "VIP")!;

function authLines(config: Config, auth: Auth): string[] {
  const a = config.auth;
  if (a.disabled) return ["auth: DISABLED (AUTH_DISABLED=true): every call is an admin. Never run a deployment this way."];
  const sources = [
    auth.devKeys ? `the development key in ${auth.devKeys.path}${auth.devKeys.created ? " (created now)" : ""}` : undefined,
    a.publicKeyFiles.length > 0 ? `AUTH_PUBLIC_KEYS (${a.publicKeyFiles.join(", ")})` : undefined,
    a.jwksUrl ? `AUTH_JWKS_URL (${a.jwksUrl})` : undefined,
  ].filter(Boolean);
  return [`auth: bearer JWTs (iss "${a.issuer}", aud "${a.audience}") signed by ${sources.join(" or ")}`];
}

/** Where the order (and stock) events go, and the command that shows them; never the broker's URL (it may hold a password). */
function eventsLine(config: Config): string {
  const e = config.events;
  const streams = (["orders", "inventory"] as const).filter((s) => config.services.includes(s));
  if (streams.length === 0) return "  Events:          none (this process hosts neither orders nor inventory)";
  if (e.broker === "redis") return `  Events:          Redis streams ${streams.map((s) => e.redisPrefix + s).join(", ")}   (watch: npm run events -- tail)`;
  if (e.broker === "nats") return `  Events:          NATS JetStream ${streams.map((s) => natsNames(s, e.natsPrefix).stream).join(", ")}   (watch: npm run events -- tail)`;
  return "  Events:          kept in the outbox, no broker (REDIS_URL or NATS_URL publishes them)   (watch: npm run events -- tail --source outbox)";
}

/** With WORKERS > 1: how many processes serve, one line (none for a single process). */
function workersLines(config: Config): string[] {
  if (config.workers <= 1) return [];
  return [`  Workers:         ${config.workers} processes share both ports (WORKERS=${config.workers}; node:cluster, connections in turn)`];
}

export async function banner(config: Config, auth: Auth, ports: { grpcPort: number; httpPort: number }): Promise<string> {
  const db = config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : `embedded PGlite in ${config.dataDir}`;
  const grpc = `http://127.0.0.1:${ports.grpcPort}`;
  const http = `http://127.0.0.1:${ports.httpPort}`;
  const lines = [
    "",
    `order service ready — hosting ${config.services.join(", ")} on ${db}`,
    ...workersLines(config),
    `  gRPC:            127.0.0.1:${ports.grpcPort}   (reflection${config.grpcReflection ? "" : " off"} + grpc.health.v1)`,
    `  Connect/HTTP:    ${http}   (Connect JSON/binary, gRPC-Web, gRPC, reflection; /healthz /readyz)`,
    `  Browser console: ${http}/   (demo identities on the zero-setup default, from this machine)`,
    `  API docs:        ${http}/docs/   (OpenAPI: ${http}/openapi.json)`,
    eventsLine(config),
    "",
    ...authLines(config, auth),
  ];
  const demo = config.seedDemoData && config.services.includes("customers");
  if (auth.devSigner && !config.auth.disabled) {
    const tokens = DEMO_TOKENS.filter((t) => demo || t.principal.role !== "customer");
    lines.push(`tokens for this server, valid ${BANNER_TOKEN_TTL_SECONDS / 3600} h (more: npm run token -- --role <customer|staff|admin|service> ...):`);
    for (const t of tokens) {
      lines.push(`  export ${t.name}=${await auth.devSigner.sign(t.principal, BANNER_TOKEN_TTL_SECONDS)}   # ${t.note}`);
    }
  }
  lines.push(
    "",
    "try:",
    `  npx buf curl --protocol grpc --http2-prior-knowledge --list-methods ${grpc}`,
    `  curl -s -X POST -H 'content-type: application/json' -d '{"pageSize": 5}' ${http}/inventory.v1.InventoryService/ListProducts`,
  );
  if (demo && auth.devSigner && config.services.length === 3) {
    lines.push(
      "  # an order for the demo VIP customer, placed by that customer:",
      `  curl -s -X POST -H "authorization: Bearer $${VIP.displayName.split(" ")[0].toUpperCase()}" -H 'content-type: application/json' -d '{"customerId":"${VIP.id}","requestId":"try-1","items":[{"productId":"${DEMO_PRODUCTS[0].id}","quantity":1}]}' ${http}/orders.v1.OrderService/CreateOrder`,
      "  # without a token it is refused (UNAUTHENTICATED):",
      `  curl -s -X POST -H 'content-type: application/json' -d '{"pageSize":2}' ${http}/orders.v1.OrderService/ListOrders`,
      "  # every call so far, by method, code and transport (Prometheus text; admins and services):",
      `  curl -s -H "authorization: Bearer $ADMIN" ${http}/metrics | grep grpc_server_handled_total`,
    );
  }
  lines.push("");
  return lines.join("\n");
}
