/**
 * Malformed requests, seeded and bounded: at least 10,000 bodies that are not
 * a valid message of their method (mutated protobuf, broken JSON, invalid
 * UTF-8, unknown fields and enum names, deep nesting, bad framing and
 * compression), often with malformed headers too (authorization, timeouts,
 * encodings, content types), over every method of every service, on the gRPC
 * port and on the Connect port (Connect unary and streaming, Connect GET,
 * gRPC, gRPC-Web). Whatever arrives: no INTERNAL or UNKNOWN, no stack trace
 * or SQL in an answer, no row written, and the server still answers.
 *
 *   FUZZ_SEED=7 FUZZ_CASES=20000 npx vitest run test/e2e/fuzz.test.ts
 */
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, fromBinary, fromJsonString, ScalarType, toBinary, type DescMethod } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../gen/orders/v1/order_service_pb.js";
import { rowsOf } from "../../src/platform/db.js";
import { JSON_READ_OPTIONS, STRICT_TEXT_DECODER } from "../../src/platform/rpc/request-decoding.js";
import { ADMIN, authHeaders } from "../support/auth.js";
import { clientsOver } from "../support/clients.js";
import { startTestStack, type TestStack } from "../support/servers.js";
import { envelope } from "../support/wire.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const BUDGET_MS = 60_000;
const METHODS: DescMethod[] = [OrderService, InventoryService, CustomerService, Health].flatMap((s) => s.methods);

/** mulberry32: small, seeded, good enough to explore. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)], bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)) };
}
type Rng = ReturnType<typeof prng>;

// ---------------------------------------------------------------- bodies

/** A plausible message of the method, encoded, to mutate: its string fields set. */
function plausible(method: DescMethod, rng: Rng): Uint8Array {
  const init: Record<string, unknown> = {};
  for (const f of method.input.fields) {
    if (f.fieldKind === "scalar" && f.scalar === ScalarType.STRING) init[f.localName] = `v${rng.int(1000)}`;
  }
  return toBinary(method.input, create(method.input, init as never));
}

const BINARY_MUTATIONS: ((b: Uint8Array, rng: Rng) => Uint8Array)[] = [
  (_b, rng) => rng.bytes(1 + rng.int(64)),
  (b, rng) => Uint8Array.from(b, (x) => (rng.next() < 0.1 ? x ^ (1 << rng.int(8)) : x)),
  (b, rng) => b.subarray(0, Math.max(0, b.length - 1 - rng.int(4))),
  (b) => Uint8Array.from([...b, 0x08, 0xff]), // truncated varint
  (b, rng) => Uint8Array.from([...b, (rng.int(15) + 1) << 3 | (6 + rng.int(2))]), // wire types 6, 7 do not exist
  (b) => Uint8Array.from([...b, 0x0a, 0x7f, 1, 2]), // a length past the end
  () => Uint8Array.from({ length: 2000 }, (_, i) => (i % 2 ? 0x0a : 0x0b)), // nesting beyond the recursion limit
  () => Uint8Array.from([0x0a, 0x02, 0xff, 0xfe]), // invalid UTF-8 in field 1
  (b, rng) => Uint8Array.from([...b, ...rng.bytes(1 + rng.int(16))]),
];

const JSON_MUTATIONS: ((method: DescMethod, rng: Rng) => Buffer)[] = [
  () => Buffer.from("{"),
  () => Buffer.from("[]"),
  () => Buffer.from('"text"'),
  (_m, rng) => Buffer.from(`{"zz${rng.int(99)}":1}`),
  (m) => Buffer.concat([Buffer.from(`{"${m.input.fields[0]?.jsonName ?? "x"}":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
  (m) => Buffer.from(`{"${m.input.fields[0]?.jsonName ?? "x"}":[[[{}]]]}`),
  (m) => {
    const e = m.input.fields.find((f) => f.fieldKind === "enum" || (f.fieldKind === "list" && f.listKind === "enum"));
    return Buffer.from(e ? `{"${e.jsonName}":${e.fieldKind === "list" ? '["NOPE"]' : '"NOPE"'}}` : '{"nope":"NOPE"}');
  },
  (m) => Buffer.from(`{"${m.input.fields[0]?.jsonName ?? "x"}":1e400}`),
  () => Buffer.from(`${"[".repeat(5000)}${"]".repeat(5000)}`),
  (_m, rng) => Buffer.from(rng.bytes(1 + rng.int(48))),
];

/** True when the body is NOT a valid message of the method: those are the cases counted. */
function malformed(method: DescMethod, body: Uint8Array, binary: boolean): boolean {
  try {
    if (binary) fromBinary(method.input, body);
    else fromJsonString(method.input, STRICT_TEXT_DECODER.decode(body), JSON_READ_OPTIONS);
    return false;
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------- headers

function headerNoise(rng: Rng, base: Record<string, string>): Record<string, string> {
  const h = { ...base };
  if (rng.next() < 0.5) return h;
  switch (rng.int(9)) {
    case 0:
      h.authorization = rng.pick(["Bearer", "Bearer  ", "Basic YTpi", `Bearer ${Buffer.from(rng.bytes(40)).toString("base64url")}`, "Bearer a.b.c"]);
      break;
    case 1:
      h["grpc-timeout"] = rng.pick(["abc", "99999999999H", "-1S", "1", "1Z"]);
      break;
    case 2:
      h["connect-timeout-ms"] = rng.pick(["soon", "-5", "1e9", "99999999999"]);
      break;
    case 3:
      h["grpc-encoding"] = rng.pick(["snappy", "gzip", "identity, gzip"]);
      break;
    case 4:
      h["content-encoding"] = rng.pick(["gzip", "br", "zstd"]);
      break;
    case 5:
      h["x-actor"] = "x".repeat(rng.pick([300, 5000]));
      break;
    case 6:
      h["connect-protocol-version"] = rng.pick(["2", "x"]);
      break;
    case 7:
      h["grpc-accept-encoding"] = "\u0001";
      break;
    default:
      delete h.authorization;
  }
  return h;
}

// ---------------------------------------------------------------- wire

interface Answer {
  status: number;
  grpcStatus?: string;
  grpcMessage?: string;
  body: string;
}

const sessions = new Map<string, http2.ClientHttp2Session>();
function session(url: string): http2.ClientHttp2Session {
  let s = sessions.get(url);
  if (!s || s.destroyed || s.closed) {
    s = http2.connect(url);
    s.on("error", () => sessions.delete(url));
    sessions.set(url, s);
  }
  return s;
}

function request(url: string, head: http2.OutgoingHttpHeaders, body: Uint8Array | undefined): Promise<Answer | "refused"> {
  return new Promise((resolve) => {
    let req: http2.ClientHttp2Stream;
    try {
      req = session(url).request(head);
    } catch {
      sessions.delete(url);
      return resolve("refused");
    }
    const answer: Answer = { status: 0, body: "" };
    const chunks: Buffer[] = [];
    req.setTimeout(10_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    req.on("response", (h) => {
      answer.status = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) answer.grpcStatus = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) answer.grpcMessage = String(h["grpc-message"]);
    });
    req.on("trailers", (t) => {
      if (t["grpc-status"] !== undefined) answer.grpcStatus = String(t["grpc-status"]);
      if (t["grpc-message"] !== undefined) answer.grpcMessage = String(t["grpc-message"]);
    });
    req.on("data", (d: Buffer) => chunks.length < 64 && chunks.push(d));
    req.on("end", () => resolve({ ...answer, body: Buffer.concat(chunks).toString("latin1") }));
    // A stream reset (an oversized header block, say) is the HTTP layer refusing: fine.
    req.on("error", () => resolve("refused"));
    req.end(body);
  });
}

type Shape = "grpc-port" | "grpc" | "grpc-web" | "connect-proto" | "connect-json" | "connect-stream" | "connect-get";
const SHAPES: readonly Shape[] = ["grpc-port", "grpc", "grpc-web", "connect-proto", "connect-json", "connect-stream", "connect-get"];

/** One malformed call: where, how it is framed, its headers. Undefined when the mutation happened to be well-formed. */
function caseOf(stack: TestStack, rng: Rng, auth: Record<string, string>) {
  const method = rng.pick(METHODS);
  const shape = rng.pick(SHAPES);
  const path = `/${method.parent.typeName}/${method.name}`;
  const binary = shape !== "connect-json" && !(shape === "connect-get" && rng.next() < 0.5) && !(shape === "connect-stream" && rng.next() < 0.5);
  const message = binary ? rng.pick(BINARY_MUTATIONS)(plausible(method, rng), rng) : rng.pick(JSON_MUTATIONS)(method, rng);
  if (!malformed(method, message, binary)) return undefined;
  const compressed = rng.next() < 0.1;
  const payload = compressed ? gzipSync(message) : message;
  const grpcHead = (ct: string) => ({ ":method": "POST", ":path": path, "content-type": ct, te: "trailers", ...(compressed ? { "grpc-encoding": "gzip" } : {}) });
  const base = { ...auth };
  switch (shape) {
    case "grpc-port":
      return { url: stack.grpcUrl, head: { ...grpcHead("application/grpc"), ...headerNoise(rng, base) }, body: envelope(payload, compressed ? 1 : 0) };
    case "grpc":
      return { url: stack.httpUrl, head: { ...grpcHead("application/grpc+proto"), ...headerNoise(rng, base) }, body: envelope(payload, compressed ? 1 : 0) };
    case "grpc-web":
      return { url: stack.httpUrl, head: { ...grpcHead("application/grpc-web+proto"), ...headerNoise(rng, base) }, body: envelope(payload, compressed ? 1 : 0) };
    case "connect-stream": {
      const ct = binary ? "application/connect+proto" : "application/connect+json";
      const head = { ":method": "POST", ":path": path, "content-type": ct, ...(compressed ? { "connect-content-encoding": "gzip" } : {}), ...headerNoise(rng, base) };
      return { url: stack.httpUrl, head, body: Buffer.concat([envelope(payload, compressed ? 1 : 0), envelope(Buffer.from("{}"), 2)]) };
    }
    case "connect-get": {
      const q = new URLSearchParams({ encoding: binary ? "proto" : "json", message: binary ? Buffer.from(payload).toString("base64url") : Buffer.from(payload).toString("latin1") });
      if (binary) q.set("base64", rng.next() < 0.2 ? "x" : "1");
      if (compressed) q.set("compression", "gzip");
      if (rng.next() < 0.2) q.set("message", "%%%");
      return { url: stack.httpUrl, head: { ":method": "GET", ":path": `${path}?${q}`, ...headerNoise(rng, base) }, body: undefined };
    }
    default: {
      const ct = shape === "connect-proto" ? "application/proto" : rng.pick(["application/json", "application/json; charset=utf-8"]);
      const head = { ":method": "POST", ":path": path, "content-type": ct, ...(compressed ? { "content-encoding": "gzip" } : {}), ...headerNoise(rng, base) };
      return { url: stack.httpUrl, head, body: payload };
    }
  }
}

/** What must never be in an answer: a stack frame, SQL, a path into the code. */
const LEAK = /\n\s+at |node_modules|\/src\/|insert into|select .* from|update .* set /i;

function verdict(a: Answer | "refused"): string | undefined {
  if (a === "refused") return undefined;
  if (a.grpcStatus === "13" || a.grpcStatus === "2") return `grpc-status ${a.grpcStatus} (${a.grpcMessage ?? ""})`;
  if (a.status === 500) return `HTTP ${a.status}`; // Connect's INTERNAL, UNKNOWN and DATA_LOSS (501 is UNIMPLEMENTED: fine)
  if (/"code":"(internal|unknown)"/.test(a.body)) return "code internal";
  if (LEAK.test(a.body)) return "leak in body";
  return undefined;
}

// ---------------------------------------------------------------- the test

let stack: TestStack;
const TABLES = ["orders.orders", "orders.order_lines", "orders.order_history", "orders.idempotency_keys", "orders.outbox", "inventory.products", "inventory.reservations", "inventory.reservation_lines", "customers.customers"];
const countRows = async () =>
  rowsOf<Record<string, string>>(await stack.database.db.execute(sql.raw(`select ${TABLES.map((t, i) => `(select count(*) from ${t})::text as t${i}`).join(", ")}`)))[0];

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const s of sessions.values()) s.destroy();
  await stack?.close();
});

it(`answers ${CASES} malformed requests (seed ${SEED}) without INTERNAL, leaks or writes, and stays up`, { timeout: BUDGET_MS + 60_000 }, async () => {
  const rng = prng(SEED);
  const auth = await authHeaders(ADMIN);
  const before = await countRows();
  const failures: string[] = [];
  const byShape: Record<string, number> = {};
  let sent = 0;
  const deadline = Date.now() + BUDGET_MS;
  const worker = async () => {
    while (sent < CASES && Date.now() < deadline) {
      const c = caseOf(stack, rng, auth);
      if (!c) continue;
      sent++;
      const answer = await request(c.url, c.head, c.body);
      const bad = verdict(answer);
      const head = c.head as Record<string, string | undefined>;
      const key = `${c.url === stack.grpcUrl ? "grpc-port" : "http-port"} ${head["content-type"] ?? head[":method"]}`;
      byShape[key] = (byShape[key] ?? 0) + 1;
      if (bad && failures.length < 20) {
        const { authorization: _, ...shown } = head;
        failures.push(`${bad}: ${JSON.stringify(shown).slice(0, 300)} → ${answer === "refused" ? "" : answer.body.slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  expect(failures).toEqual([]);
  expect(sent).toBeGreaterThanOrEqual(CASES);
  expect(await countRows()).toEqual(before);
  // Still up, on both ports.
  for (const wire of ["grpc", "connect json"] as const) {
    const c = clientsOver(stack, wire, ADMIN);
    expect((await c.health.check({ service: "" })).status).toBeGreaterThan(0);
    expect((await c.inventory.listProducts({ pageSize: 1 })).products).toBeDefined();
  }
  expect(Object.keys(byShape).length).toBeGreaterThanOrEqual(7);
});
