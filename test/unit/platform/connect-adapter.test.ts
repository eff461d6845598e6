/**
 * connect-adapter.ts against connect-node's own connectNodeAdapter: the same
 * wrapped services behind two servers, the same well-formed requests of every
 * protocol the adapter serves (Connect GET, compressed Connect unary, Connect
 * streaming, gRPC, gRPC-Web) to both. Status, headers (less Date), body and
 * trailers must be identical: checking a request first changes nothing for a
 * request that was fine. What it changes for malformed ones is asserted in
 * test/e2e/security-probes.test.ts and the fuzz test.
 */
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerService, GetCustomerRequestSchema } from "../../../gen/customers/v1/customer_service_pb.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import { notFound } from "../../../src/kernel/errors.js";
import { createDisabledAuthenticator } from "../../../src/platform/auth/authenticator.js";
import { createConnectAdapter } from "../../../src/platform/rpc/connect-adapter.js";
import type { RpcImpl } from "../../../src/platform/rpc/handlers.js";
import { createHttpServer, type HttpServer } from "../../../src/platform/rpc/http-server.js";
import { CONNECT_JSON_OPTIONS } from "../../../src/platform/rpc/request-decoding.js";
import { createServiceRegistry } from "../../../src/platform/rpc/service-registry.js";
import { envelope } from "../../support/wire.js";

const KNOWN = "3f1c8d9e-1111-4aaa-8bbb-123456789abc";
const customers: Partial<RpcImpl<typeof CustomerService>> = {
  getCustomer(req) {
    if (req.customerId === KNOWN) return { customer: { id: KNOWN, displayName: "Ada" } };
    throw notFound("CUSTOMER_NOT_FOUND", `customer ${req.customerId} not found`, { customerId: req.customerId });
  },
};
const health: RpcImpl<typeof Health> = {
  check: () => ({ status: Status.SERVING }),
  async *watch() {
    yield { status: Status.SERVING };
    yield { status: Status.NOT_SERVING };
  },
};

const servers: HttpServer[] = [];
let ours = "";
let theirs = "";

beforeAll(async () => {
  const registry = createServiceRegistry({
    validator: createValidator(),
    logger: pino({ level: "silent" }),
    defaultDeadlineMs: 5000,
    authenticator: createDisabledAuthenticator(),
  });
  const unimplemented = () => {
    throw new Error("not in this test");
  };
  registry.register(CustomerService, { createCustomer: unimplemented, listCustomers: unimplemented, updateCustomer: unimplemented, ...customers } as RpcImpl<typeof CustomerService>);
  registry.register(Health, health);
  registry.seal();
  const regs = registry.registrations();
  const library = connectNodeAdapter({
    routes: (router) => {
      for (const r of regs) router.service(r.service, r.impl as never);
    },
    readMaxBytes: 1024 * 1024,
    jsonOptions: CONNECT_JSON_OPTIONS,
  });
  const start = async (handler: (req: never, res: never) => void) => {
    const s = createHttpServer(handler as never);
    servers.push(s);
    return `http://127.0.0.1:${await s.listen("127.0.0.1", 0)}`;
  };
  ours = await start(createConnectAdapter(regs, { readMaxBytes: 1024 * 1024 }) as never);
  theirs = await start(library as never);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

interface Exchange {
  method?: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const IGNORED = new Set(["date"]);

/** Sends one request over h2c; the status, headers and trailers (less Date) and the body. */
function send(base: string, x: Exchange): Promise<{ head: Record<string, unknown>; body: string }> {
  const session = http2.connect(base);
  return new Promise<{ head: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = session.request({ ":method": x.method ?? "POST", ":path": x.path, ...x.headers });
    const head: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    const keep = (h: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(h)) if (!IGNORED.has(k)) head[k] = v;
    };
    req.on("response", keep);
    req.on("trailers", keep);
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => resolve({ head, body: Buffer.concat(chunks).toString("base64") }));
    req.on("error", reject);
    req.end(x.body);
  }).finally(() => session.close());
}

const get = (id: string) => toBinary(GetCustomerRequestSchema, create(GetCustomerRequestSchema, { customerId: id }));
const getJson = (id: string) => toJsonString(GetCustomerRequestSchema, create(GetCustomerRequestSchema, { customerId: id }));
const path = "/customers.v1.CustomerService/GetCustomer";

const CASES: Record<string, Exchange> = {
  "Connect GET, JSON": { method: "GET", path: `${path}?encoding=json&message=${encodeURIComponent(getJson(KNOWN))}`, headers: {} },
  "Connect GET, proto base64": { method: "GET", path: `${path}?encoding=proto&base64=1&message=${Buffer.from(get(KNOWN)).toString("base64url")}`, headers: {} },
  "Connect GET, domain error": { method: "GET", path: `${path}?encoding=json&message=${encodeURIComponent(getJson(KNOWN.replace("3f", "40")))}`, headers: {} },
  "Connect unary, gzip request": { path, headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: gzipSync(getJson(KNOWN)) },
  "gRPC unary": { path, headers: { "content-type": "application/grpc", te: "trailers" }, body: envelope(get(KNOWN)) },
  "gRPC unary, gzip message": {
    path,
    headers: { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip", "grpc-timeout": "5S" },
    body: envelope(gzipSync(get(KNOWN)), 1),
  },
  "gRPC unary, domain error": { path, headers: { "content-type": "application/grpc", te: "trailers" }, body: envelope(get(KNOWN.replace("3f", "40"))) },
  "gRPC-Web unary": { path, headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" }, body: envelope(get(KNOWN)) },
  "gRPC server streaming": {
    path: "/grpc.health.v1.Health/Watch",
    headers: { "content-type": "application/grpc", te: "trailers" },
    body: envelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" }))),
  },
  "Connect server streaming": {
    path: "/grpc.health.v1.Health/Watch",
    headers: { "content-type": "application/connect+json" },
    body: Buffer.concat([envelope(Buffer.from('{"service":""}')), envelope(Buffer.from("{}"), 2)]),
  },
};

describe("the checked adapter answers well-formed calls exactly as connectNodeAdapter", () => {
  it.each(Object.keys(CASES))("%s", async (name) => {
    const [a, b] = [await send(ours, CASES[name]), await send(theirs, CASES[name])];
    expect(a).toEqual(b);
    expect(a.head[":status"]).toBeDefined();
  });
});
