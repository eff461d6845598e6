/**
 * The Connect unary fast path (src/platform/rpc/connect-unary.ts) against
 * connect-node's own handler: the same wrapped implementation behind two
 * Connect ports, one with the fast path and one without, and the same raw
 * requests (HTTP/1.1 and h2c) to both. Status, headers (less Date and
 * connection management) and body bytes must be identical, and the fast
 * server must really have taken the fast path.
 */
import http from "node:http";
import http2 from "node:http2";
import { gunzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CustomerService,
  GetCustomerRequestSchema,
  ListCustomersResponseSchema,
} from "../../../gen/customers/v1/customer_service_pb.js";
import { notFound, resourceExhausted } from "../../../src/kernel/errors.js";
import { CallHandlerContext } from "../../../src/platform/rpc/call-handler-context.js";
import { validateRequest, type ServiceRegistration } from "../../../src/platform/rpc/handlers.js";
import { toConnectError } from "../../../src/platform/rpc/rpc-errors.js";
import { createHttpHandler, createHttpServer, type HttpServer } from "../../../src/platform/rpc/http-server.js";
import { freezeMessage } from "../../../src/platform/rpc/message-encoding.js";

const MAX = 4096;
const ID = {
  internal: "00000000-0000-4000-8000-000000000000",
  waits: "00000000-0000-4000-8000-000000000001",
  headers: "00000000-0000-4000-8000-000000000002",
  big: "00000000-0000-4000-8000-000000000003",
  metadata: "00000000-0000-4000-8000-000000000004",
  shared: "00000000-0000-4000-8000-000000000005",
  other: "3f1c8d9e-1111-4aaa-8bbb-123456789abc",
};
/** One refusal object thrown by every call, as the rate limiter shares its answers (rate-limit.ts). */
const sharedRefusal = resourceExhausted("RATE_LIMITED", "too many read calls; retry after 300 ms", 300, { methodClass: "read" });
const frozenPage = freezeMessage(
  create(ListCustomersResponseSchema, { customers: [{ id: ID.other, displayName: "Ada" }], nextPageToken: "t" }),
);
/** Per call: whether the implementation ran under the fast path's context. */
const fastCalls: boolean[] = [];

const impl: ServiceImpl<typeof CustomerService> = {
  async getCustomer(req, ctx: HandlerContext) {
    fastCalls.push(ctx instanceof CallHandlerContext);
    switch (req.customerId) {
      case ID.internal:
        throw new Error("select * from secret_table");
      case ID.waits:
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        throw ctx.signal.reason;
      case ID.headers:
        ctx.responseHeader.set("x-actor-seen", ctx.requestHeader.get("x-actor") ?? "none");
        ctx.responseHeader.append("x-multi", "a");
        ctx.responseHeader.append("x-multi", "b");
        ctx.responseTrailer.set("x-trailer", `timeout=${ctx.timeoutMs() === undefined ? "none" : "set"}`);
        return { customer: { id: req.customerId, displayName: ctx.requestHeader.has("x-actor") ? "has actor" : "" } };
      case ID.big:
        return { customer: { id: req.customerId, displayName: "x".repeat(3000) } };
      case ID.shared:
        throw sharedRefusal;
      case ID.metadata:
        throw new ConnectError("try later", Code.Unavailable, { "retry-after": "3" });
      default:
        throw notFound("CUSTOMER_NOT_FOUND", `customer ${req.customerId} not found`, { customerId: req.customerId });
    }
  },
  createCustomer(req) {
    return { customer: { email: req.email, displayName: req.displayName } };
  },
  listCustomers: () => frozenPage,
  updateCustomer: () => ({}),
};

const servers: HttpServer[] = [];
let fastUrl = "";
let slowUrl = "";

/**
 * The stand-in runs on the raw HandlerContext (it sets response headers and
 * reads the transport's signal, which RpcImpls never see), with wrapService's
 * validation and error mapping.
 */
function mapErrors(raw: ServiceImpl<typeof CustomerService>): ServiceImpl<typeof CustomerService> {
  const logger = pino({ level: "silent" });
  const validator = createValidator();
  const wrapped: Record<string, unknown> = {};
  for (const method of CustomerService.methods) {
    const fn = (raw as unknown as Record<string, (req: unknown, ctx: HandlerContext) => unknown>)[method.localName];
    wrapped[method.localName] = async (req: never, ctx: HandlerContext) => {
      try {
        validateRequest(validator, method.input, req);
        return await fn(req, ctx);
      } catch (err) {
        throw toConnectError(err, logger, method.name);
      }
    };
  }
  return wrapped as ServiceImpl<typeof CustomerService>;
}

beforeAll(async () => {
  const regs = [{ service: CustomerService, impl: mapErrors(impl) }] as unknown as ServiceRegistration[];
  const start = async (connectFastPath: boolean) => {
    const s = createHttpServer(createHttpHandler(regs, { maxReceiveMessageBytes: MAX, ready: () => true, connectFastPath }));
    servers.push(s);
    return `http://127.0.0.1:${await s.listen("127.0.0.1", 0)}`;
  };
  fastUrl = await start(true);
  slowUrl = await start(false);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

interface Outcome {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

interface Call {
  path: string;
  headers: Record<string, string>;
  body: Buffer | string;
  /** Send without Content-Length (chunked on HTTP/1.1). */
  noLength?: boolean;
  method?: string;
}

const IGNORED = new Set(["date", "connection", "keep-alive", "transfer-encoding"]);

function clean(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith(":") && !IGNORED.has(k) && v !== undefined) out[k] = Array.isArray(v) ? v : String(v);
  }
  return out;
}

function viaH1(base: string, c: Call): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(c.body);
    const headers = c.noLength ? c.headers : { ...c.headers, "content-length": String(body.length) };
    const req = http.request(`${base}${c.path}`, { method: c.method ?? "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: clean(res.headers), body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function viaH2(base: string, c: Call): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(base);
    session.on("error", reject);
    const body = Buffer.from(c.body);
    const headers = c.noLength ? c.headers : { ...c.headers, "content-length": String(body.length) };
    const stream = session.request({ ":method": c.method ?? "POST", ":path": c.path, ...headers });
    let status = 0;
    let resHeaders: Record<string, string | string[]> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      resHeaders = clean(h);
    });
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => {
      session.close();
      resolve({ status, headers: resHeaders, body: Buffer.concat(chunks) });
    });
    stream.on("error", reject);
    stream.end(body);
  });
}

const json = (path: string, body: unknown, headers: Record<string, string> = {}): Call => ({
  path: `/customers.v1.CustomerService/${path}`,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const proto = (path: string, body: Uint8Array, headers: Record<string, string> = {}): Call => ({
  path: `/customers.v1.CustomerService/${path}`,
  headers: { "content-type": "application/proto", ...headers },
  body: Buffer.from(body),
});

const CASES: Record<string, Call> = {
  "ok (json, a frozen message twice over)": json("ListCustomers", {}),
  "ok (proto)": proto("GetCustomer", toBinary(GetCustomerRequestSchema, create(GetCustomerRequestSchema, { customerId: ID.headers }))),
  "ok (json; charset=utf-8)": json("ListCustomers", {}, { "content-type": "application/json; charset=utf-8" }),
  "ok (empty proto body)": proto("ListCustomers", new Uint8Array()),
  "bad JSON → invalid_argument": json("GetCustomer", '{"customerId":'),
  "wrong JSON type → invalid_argument": json("GetCustomer", { customerId: 5 }),
  "unknown JSON field → invalid_argument naming it": json("GetCustomer", { customerId: ID.other, bogus: 1 }),
  "unknown enum name → invalid_argument naming the field": json("ListCustomers", { tier: "CUSTOMER_TIER_GOLD" }),
  "invalid UTF-8 in JSON → invalid_argument": {
    ...json("GetCustomer", ""),
    body: Buffer.concat([Buffer.from('{"customerId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
  },
  "bad proto → invalid_argument with an ErrorInfo": proto("GetCustomer", Buffer.from([0x0a, 0xff])),
  "validation error with details": json("CreateCustomer", { email: "nope", displayName: "" }),
  "domain error with details": json("GetCustomer", { customerId: ID.other }),
  "unknown error → internal, cause hidden": json("GetCustomer", { customerId: ID.internal }),
  "error metadata becomes headers": json("GetCustomer", { customerId: ID.metadata }),
  "a shared refusal with retry headers": json("GetCustomer", { customerId: ID.shared }),
  "a shared refusal, asked for gzip": json("GetCustomer", { customerId: ID.shared }, { "accept-encoding": "gzip" }),
  "a shared refusal, with a deadline": json("GetCustomer", { customerId: ID.shared }, { "connect-timeout-ms": "10000" }),
  "invalid connect-timeout-ms": json("GetCustomer", { customerId: ID.other }, { "connect-timeout-ms": "soon" }),
  "deadline from connect-timeout-ms": json("GetCustomer", { customerId: ID.waits }, { "connect-timeout-ms": "30" }),
  "response headers, trailers, request header and timeout seen": json(
    "GetCustomer",
    { customerId: ID.headers },
    { "x-actor": "staff:1", "connect-timeout-ms": "10000", "connect-protocol-version": "1" },
  ),
  "gzip response on Accept-Encoding": json("GetCustomer", { customerId: ID.big }, { "accept-encoding": "gzip, br" }),
  "br response on Accept-Encoding": json("GetCustomer", { customerId: ID.big }, { "accept-encoding": "br" }),
  "small response stays uncompressed": json("GetCustomer", { customerId: ID.headers }, { "accept-encoding": "br" }),
  "oversized with Content-Length → resource_exhausted": json("CreateCustomer", { email: "a@example.com", displayName: "x".repeat(MAX) }),
};

describe.each([
  ["HTTP/1.1", viaH1],
  ["h2c", viaH2],
] as const)("over %s, the fast path answers as connect-node does", (_, send) => {
  it.each(Object.keys(CASES))("%s", async (name) => {
    const call = CASES[name];
    fastCalls.length = 0;
    const slow = await send(slowUrl, call);
    const fast = await send(fastUrl, call);
    expect(fast.status).toBe(slow.status);
    expect(fast.headers).toEqual(slow.headers);
    expect(fast.body.toString("base64")).toBe(slow.body.toString("base64"));
    expect(fastCalls.filter((f) => f).length).toBe(fastCalls.length / 2); // one of two GetCustomer calls, if any
  });
});

describe("the fast path", () => {
  it("answers one shared error again and again with the bytes and headers connect-node sends", async () => {
    for (const send of [viaH2, viaH1]) {
      const call = json("GetCustomer", { customerId: ID.shared });
      const slow = await send(slowUrl, call);
      expect(slow.status).toBe(429);
      expect(slow.headers["retry-after"]).toBe("1");
      for (let i = 0; i < 3; i++) {
        const fast = await send(fastUrl, call);
        expect([fast.status, fast.headers, fast.body.toString("base64")]).toEqual([slow.status, slow.headers, slow.body.toString("base64")]);
      }
    }
  });

  it("answers an oversized body without Content-Length with resource_exhausted, as connect-node", async () => {
    const call = { ...json("CreateCustomer", { email: "a@example.com", displayName: "x".repeat(MAX * 64) }), noLength: true };
    for (const send of [viaH2, viaH1]) {
      const slow = await send(slowUrl, call);
      const fast = await send(fastUrl, call);
      expect(slow.status).toBe(429);
      expect(fast).toEqual(slow);
    }
  });

  it("serves the encoding of a frozen message again, and the same bytes", async () => {
    const a = await viaH1(fastUrl, CASES["ok (json, a frozen message twice over)"]);
    const b = await viaH1(fastUrl, CASES["ok (json, a frozen message twice over)"]);
    expect(b.body.equals(a.body)).toBe(true);
    expect(JSON.parse(a.body.toString())).toEqual({ customers: [{ id: ID.other, displayName: "Ada" }], nextPageToken: "t" });
  });

  it("compresses as announced", async () => {
    const res = await viaH1(fastUrl, CASES["gzip response on Accept-Encoding"]);
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(res.body).toString()).customer.displayName).toHaveLength(3000);
  });

  it.each([
    ["GET", { ...json("GetCustomer", ""), method: "GET", path: `/customers.v1.CustomerService/GetCustomer?encoding=json&message=${encodeURIComponent(JSON.stringify({ customerId: ID.other }))}` }],
    ["a compressed request", json("GetCustomer", "not gzip", { "content-encoding": "gzip" })],
    ["another content type", json("GetCustomer", "{}", { "content-type": "text/plain" })],
    ["a query string", { ...json("GetCustomer", { customerId: ID.other }), path: "/customers.v1.CustomerService/GetCustomer?x=1" }],
    ["a streaming content type", json("GetCustomer", "{}", { "content-type": "application/connect+json" })],
  ] as const)("leaves %s to connect-node", async (_, call) => {
    fastCalls.length = 0;
    const slow = await viaH1(slowUrl, call);
    const fast = await viaH1(fastUrl, call);
    expect(fast).toEqual(slow);
    expect(fastCalls.some((f) => f)).toBe(false);
  });
});

describe("decoding on both paths", () => {
  const reasonAndField = (body: Buffer) => {
    const e = JSON.parse(body.toString()) as { code: string; details?: { debug: { reason?: string; fieldViolations?: { field: string }[] } }[] };
    return [e.code, ...(e.details ?? []).map((d) => d.debug.reason ?? d.debug.fieldViolations?.map((v) => v.field).join())];
  };
  it.each([
    ["unknown JSON field → invalid_argument naming it", ["invalid_argument", "INVALID_REQUEST", "bogus"]],
    ["unknown enum name → invalid_argument naming the field", ["invalid_argument", "INVALID_REQUEST", "tier"]],
    ["invalid UTF-8 in JSON → invalid_argument", ["invalid_argument", "MALFORMED_REQUEST"]],
    ["bad proto → invalid_argument with an ErrorInfo", ["invalid_argument", "MALFORMED_REQUEST"]],
    ["oversized with Content-Length → resource_exhausted", ["resource_exhausted", "MESSAGE_TOO_LARGE"]],
    ["invalid connect-timeout-ms", ["invalid_argument", "MALFORMED_REQUEST"]],
  ] as const)("%s", async (name, expected) => {
    for (const url of [fastUrl, slowUrl]) expect(reasonAndField((await viaH1(url, CASES[name])).body)).toEqual(expected);
  });
});
