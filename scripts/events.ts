/**
 * The service's events from a terminal (README "Events"):
 *
 *   npm run events -- tail [--stream orders|inventory] [--from start|now|<id>] [--type <type>] [--source broker|outbox]
 *   npm run events -- dead-letters [--stream orders|inventory]
 *   npm run events -- replay <event id> [--stream orders|inventory]
 *
 * `--stream` picks the order events (the default) or inventory's.
 * `tail` prints each event as it arrives, decoded with the contract's
 * generated types (gen/orders/v1/order_events_pb.ts,
 * gen/inventory/v1/inventory_events_pb.ts): from the broker the
 * service publishes to (EVENTS_BROKER / REDIS_URL / NATS_URL, read as the
 * service reads them), or — with no broker, or `--source outbox` — from the
 * outbox itself through the running service's /events endpoint. `--from`
 * is a Redis entry id or NATS stream sequence, an outbox position, `start`
 * or `now` (the default). `--type` keeps one event type ("OrderCreated" or
 * "orders.v1.OrderCreated"; "StockLow" on the inventory stream).
 *
 * The outbox commands talk to the service at --url (default
 * http://127.0.0.1:$HTTP_PORT) with an admin token: --token, EVENTS_TOKEN,
 * or one signed by the development key in DATA_DIR (the embedded default).
 */
import { createRegistry, fromJsonString, toJsonString, type DescMessage } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { parseArgs } from "node:util";
import { file_inventory_v1_inventory_events } from "../gen/inventory/v1/inventory_events_pb.js";
import { file_orders_v1_order_events } from "../gen/orders/v1/order_events_pb.js";
import { ConfigError, DEFAULT_AUDIENCE, DEFAULT_ISSUER, loadEventsCliConfig } from "../src/config.js";
import { ensureDevKeys } from "../src/platform/auth/dev-keys.js";
import { createTokenSigner } from "../src/platform/auth/token-signer.js";
import { fieldsOf } from "../src/platform/events/redis-publisher.js";

const USAGE = `usage: npm run events -- tail [--stream orders|inventory] [--from start|now|<id>] [--type <type>] [--source broker|outbox]
       npm run events -- dead-letters [--stream orders|inventory]
       npm run events -- replay <event id> [--stream orders|inventory]`;

/** The streams and the proto package of their event types. */
const STREAMS: Readonly<Record<string, string>> = { orders: "orders.v1", inventory: "inventory.v1" };

const registry = createRegistry(file_orders_v1_order_events, file_inventory_v1_inventory_events);

function fail(message: string): never {
  process.stderr.write(`events: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** One line per event: when, type, subject, version (order events), id, then the data as the contract's JSON. */
function print(a: Record<string, string>, data: string, where: string): void {
  const schema = registry.getMessage(a.type) as DescMessage | undefined;
  let json = data;
  if (schema) json = toJsonString(schema, fromJsonString(schema, data, { registry }), { registry });
  const version = a.orderversion ? `  v${a.orderversion}` : "";
  process.stdout.write(`${where}  ${a.time}  ${a.type}  ${a.subject}${version}  ${a.id}\n  ${json}\n`);
}

/** "OrderCreated" → "orders.v1.OrderCreated" (on the stream's package); a full name stays as it is. */
const fullType = (type: string | undefined) => (type && !type.includes(".") ? `${STREAMS[stream]}.${type}` : type);
const typeFilter = (type: string | undefined) => (t: string) => !type || t === type;

async function tailRedis(url: string, key: string, from: string, wanted: (t: string) => boolean, signal: AbortSignal): Promise<void> {
  const redis = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: null });
  await redis.connect();
  signal.addEventListener("abort", () => redis.disconnect());
  process.stderr.write(`tailing Redis stream ${key} from ${from}\n`);
  let last = from === "start" ? "0-0" : from === "now" ? "$" : from;
  while (!signal.aborted) {
    const reply = (await redis.xread("COUNT", 100, "BLOCK", 5000, "STREAMS", key, last).catch((err: unknown) => {
      if (signal.aborted) return null;
      throw err;
    })) as [string, [string, string[]][]][] | null;
    for (const [, entries] of reply ?? []) {
      for (const [id, flat] of entries) {
        last = id;
        const f = fieldsOf(flat);
        if (wanted(f.type ?? "")) print(f, f.data ?? "", id);
      }
    }
  }
}

async function adminToken(): Promise<string> {
  const given = values.token ?? process.env.EVENTS_TOKEN;
  if (given) return given;
  const keys = await ensureDevKeys(process.env.DATA_DIR || "./.data");
  const signer = createTokenSigner({
    privateKey: keys.privateKey,
    kid: keys.kid,
    alg: keys.alg,
    issuer: process.env.AUTH_ISSUER || DEFAULT_ISSUER,
    audience: process.env.AUTH_AUDIENCE || DEFAULT_AUDIENCE,
  });
  return signer.sign({ role: "admin", id: "events-cli" }, 3600);
}

async function outbox(path: string, method = "GET"): Promise<unknown> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${await adminToken()}` } });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) fail(`${method} ${path}: HTTP ${res.status} ${body.error ?? ""}`);
  return body;
}

interface OutboxEventJson {
  position: number;
  id: string;
  aggregateId: string;
  version: number | null;
  type: string;
  time: string;
  data: string;
}

async function tailOutbox(from: string, wanted: (t: string) => boolean, signal: AbortSignal): Promise<void> {
  let after = 0;
  if (from === "now") {
    // The newest position: page to the end once.
    for (;;) {
      const page = (await outbox(`/events?stream=${stream}&after=${after}&limit=1000`)) as { next: number; events: unknown[] };
      after = page.next;
      if (page.events.length < 1000) break;
    }
  } else if (from !== "start") {
    after = Number(from);
    if (!Number.isSafeInteger(after)) fail("--from must be start, now or an outbox position");
  }
  process.stderr.write(`tailing the outbox at ${baseUrl} after position ${after}\n`);
  while (!signal.aborted) {
    const page = (await outbox(`/events?stream=${stream}&after=${after}&limit=500`)) as { next: number; events: OutboxEventJson[] };
    for (const e of page.events) {
      const attrs = { id: e.id, type: e.type, subject: e.aggregateId, time: new Date(e.time).toISOString(), ...(e.version === null ? {} : { orderversion: String(e.version) }) };
      if (wanted(e.type)) print(attrs, e.data, `#${e.position}`);
    }
    after = page.next;
    if (page.events.length === 0) await new Promise((r) => setTimeout(r, 500));
  }
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        stream: { type: "string" },
        from: { type: "string" },
        type: { type: "string" },
        source: { type: "string" },
        url: { type: "string" },
        token: { type: "string" },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
})();
const config = (() => {
  try {
    return loadEventsCliConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`);
    throw err;
  }
})();
const baseUrl = values.url ?? `http://127.0.0.1:${config.httpPort}`;
const stream = values.stream ?? "orders";
if (!(stream in STREAMS)) fail(`--stream must be one of ${Object.keys(STREAMS).join(", ")}`);
const [command, arg] = positionals;
const stop = new AbortController();
process.on("SIGINT", () => stop.abort());

switch (command) {
  case "tail": {
    const from = values.from ?? "now";
    const type = fullType(values.type);
    const wanted = typeFilter(type);
    const source = values.source ?? (config.events.broker === "none" ? "outbox" : "broker");
    if (source === "outbox") await tailOutbox(from, wanted, stop.signal);
    else if (source !== "broker") fail("--source must be broker or outbox");
    else if (config.events.broker === "redis") await tailRedis(config.events.redisUrl!, `${config.events.redisPrefix}${stream}`, from, wanted, stop.signal);
    else if (config.events.broker === "nats") {
      const { tailNats } = await import("../src/platform/events/nats-tail.js");
      await tailNats(config.events.natsUrl!.split(","), stream, { from: from === "start" || from === "now" ? from : Number(from), type, streamPrefix: config.events.natsPrefix }, (a, data, seq) => print(a, data, `#${seq}`), stop.signal);
    } else fail("no broker is configured (EVENTS_BROKER=none): use --source outbox");
    break;
  }
  case "dead-letters": {
    const { deadLetters } = (await outbox(`/events/dead-letters?stream=${stream}`)) as { deadLetters: Record<string, unknown>[] };
    if (deadLetters.length === 0) process.stdout.write("no dead letters\n");
    for (const d of deadLetters) process.stdout.write(`${JSON.stringify(d)}\n`);
    break;
  }
  case "replay": {
    if (!arg) fail("replay needs an event id (see dead-letters)");
    process.stdout.write(`${JSON.stringify(await outbox(`/events/dead-letters/replay?stream=${stream}&id=${encodeURIComponent(arg)}`, "POST"))}\n`);
    break;
  }
  default:
    fail(command ? `unknown command "${command}"` : "a command is needed");
}
