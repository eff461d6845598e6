/**
 * The platform on real sockets: one implementation behind grpc-js and the
 * Connect port, checked from a grpc-js client, Connect gRPC/JSON clients and
 * buf curl (reflection). The service here is a stand-in so the platform is
 * tested on its own; the real services have their own end-to-end tests.
 */
import { createDisabledAuthenticator } from "../../../src/platform/auth/authenticator.js";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CustomerService,
  GetCustomerRequestSchema,
  CreateCustomerRequestSchema,
  CreateCustomerResponseSchema,
} from "../../../gen/customers/v1/customer_service_pb.js";
import { StatusSchema } from "../../../gen/google/rpc/status_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { notFound } from "../../../src/kernel/errors.js";
import { createGrpcServer, listenGrpc } from "../../../src/platform/rpc/grpc-server.js";
import { wrapService, type RpcImpl, type ServiceRegistration } from "../../../src/platform/rpc/handlers.js";
import { createHealthRegistry, ServingStatus } from "../../../src/platform/health.js";
import { createHttpHandler, createHttpServer } from "../../../src/platform/rpc/http-server.js";
import { addReflection } from "../../../src/platform/rpc/reflection.js";
import { errorInfoOf, fieldViolationsOf, reasonOf, rpcFailure } from "../../support/rpc-errors.js";

const MAX = 64 * 1024;
const logged: unknown[] = [];
const logger = pino({ level: "error" }, { write: (s: string) => void logged.push(JSON.parse(s)) });

const impl: RpcImpl<typeof CustomerService> = {
  getCustomer(req) {
    if (req.customerId === "00000000-0000-4000-8000-000000000000") throw new Error("select * from secret_table");
    throw notFound("CUSTOMER_NOT_FOUND", `customer ${req.customerId} not found`, { customerId: req.customerId });
  },
  createCustomer(req) {
    return { customer: { email: req.email, displayName: req.displayName } };
  },
  listCustomers: () => ({}),
  updateCustomer: () => ({}),
};

let grpcServer: grpc.Server;
let http: ReturnType<typeof createHttpServer>;
let grpcUrl: string;
let httpUrl: string;

beforeAll(async () => {
  const deps = { validator: createValidator(), logger, defaultDeadlineMs: 5000, authenticator: createDisabledAuthenticator() };
  const health = createHealthRegistry([CustomerService.typeName]);
  health.setAll(ServingStatus.SERVING);
  const regs = [
    wrapService(CustomerService, impl, deps),
    wrapService(Health, health.impl, deps),
  ] as unknown as ServiceRegistration[];
  grpcServer = createGrpcServer(regs, { maxReceiveMessageBytes: MAX });
  addReflection(grpcServer, regs.map((r) => r.service));
  grpcUrl = `http://127.0.0.1:${await listenGrpc(grpcServer, "127.0.0.1", 0)}`;
  http = createHttpServer(createHttpHandler(regs, { maxReceiveMessageBytes: MAX, ready: () => true }));
  httpUrl = `http://127.0.0.1:${await http.listen("127.0.0.1", 0)}`;
});

afterAll(async () => {
  grpcServer.forceShutdown();
  await http.close();
});

const clients = () => ({
  "grpc (grpc-js server)": createClient(CustomerService, createGrpcTransport({ baseUrl: grpcUrl })),
  "connect json (http/1.1)": createClient(CustomerService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" })),
  "connect binary (h2c)": createClient(CustomerService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "2", useBinaryFormat: true })),
  "grpc (connect port)": createClient(CustomerService, createGrpcTransport({ baseUrl: httpUrl })),
});

const TRANSPORTS = ["grpc (grpc-js server)", "connect json (http/1.1)", "connect binary (h2c)", "grpc (connect port)"];

describe.each(TRANSPORTS)("over %s", (name) => {
  const client = () => clients()[name as keyof ReturnType<typeof clients>];

  it("rejects a bad request with INVALID_ARGUMENT naming every bad field", async () => {
    const err = await rpcFailure(client().createCustomer({ email: "not-an-email", displayName: "" }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(reasonOf(err)).toBe("INVALID_REQUEST");
    const fields = fieldViolationsOf(err).map((v) => v.field);
    expect(fields.sort()).toEqual(["display_name", "email"]);
  });

  it("maps a domain error to its code with a stable reason", async () => {
    const id = "3f1c8d9e-1111-4aaa-8bbb-123456789abc";
    const err = await rpcFailure(client().getCustomer({ customerId: id }));
    expect(err.code).toBe(Code.NotFound);
    const info = errorInfoOf(err);
    expect(info?.reason).toBe("CUSTOMER_NOT_FOUND");
    expect(info?.metadata.customerId).toBe(id);
  });

  it("hides internal errors: INTERNAL, no SQL or stack in the response, cause logged", async () => {
    const err = await rpcFailure(client().getCustomer({ customerId: "00000000-0000-4000-8000-000000000000" }));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(JSON.stringify(err.details)).not.toMatch(/secret_table|at /);
    expect(JSON.stringify(logged)).toMatch(/secret_table/);
  });

  it("refuses an oversized message with RESOURCE_EXHAUSTED and stays up", async () => {
    const err = await rpcFailure(client().createCustomer({ email: "a@example.com", displayName: "x".repeat(MAX + 10) }));
    expect(err.code).toBe(Code.ResourceExhausted);
    const ok = await client().createCustomer({ email: "a@example.com", displayName: "Ada" });
    expect(ok.customer?.displayName).toBe("Ada");
  });
});

describe("grpc-js client", () => {
  const Client = grpc.makeGenericClientConstructor(
    {
      getCustomer: {
        path: "/customers.v1.CustomerService/GetCustomer",
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    "CustomerService",
  );
  const call = (bytes: Uint8Array) =>
    new Promise<grpc.ServiceError>((resolve, reject) => {
      const c = new Client(grpcUrl.replace("http://", ""), grpc.credentials.createInsecure());
      c.getCustomer(Buffer.from(bytes), (err: grpc.ServiceError | null) => {
        c.close();
        return err ? resolve(err) : reject(new Error("expected an error"));
      });
    });

  it("gets the same status and google.rpc.Status details as Connect clients", async () => {
    const err = await call(toBinary(GetCustomerRequestSchema, create(GetCustomerRequestSchema, { customerId: "nope" })));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const status = fromBinary(StatusSchema, err.metadata.get("grpc-status-details-bin")[0] as Buffer);
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details.map((d) => d.typeUrl)).toEqual([
      "type.googleapis.com/google.rpc.ErrorInfo",
      "type.googleapis.com/google.rpc.BadRequest",
    ]);
  });

  it("answers bytes that are not a message with INVALID_ARGUMENT, not INTERNAL", async () => {
    const err = await call(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("operability", () => {
  it("lists every service through reflection (buf curl, no proto files)", async () => {
    const { stdout } = await promisify(execFile)("npx", [
      "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", grpcUrl,
    ]);
    expect(stdout).toContain("customers.v1.CustomerService/CreateCustomer");
    expect(stdout).toContain("grpc.health.v1.Health/Check");
  });

  it("calls a method through reflection with JSON (buf curl)", async () => {
    const { stdout } = await promisify(execFile)("npx", [
      "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-d", '{"email":"b@example.com","displayName":"Bo"}',
      `${grpcUrl}/customers.v1.CustomerService/CreateCustomer`,
    ]);
    expect(JSON.parse(stdout).customer.displayName).toBe("Bo");
  });

  it("serves grpc.health.v1 on both transports", async () => {
    for (const transport of [createGrpcTransport({ baseUrl: grpcUrl }), createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" })]) {
      const health = createClient(Health, transport);
      expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect((await health.check({ service: CustomerService.typeName })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect((await rpcFailure(health.check({ service: "nope.v1.Nope" }))).code).toBe(Code.NotFound);
    }
  });

  it("answers /healthz and /readyz over HTTP/1.1", async () => {
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${httpUrl}/readyz`)).status).toBe(200);
  });

  it("serves Connect JSON to plain curl-style POSTs", async () => {
    const res = await fetch(`${httpUrl}/customers.v1.CustomerService/CreateCustomer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "c@example.com", displayName: "Cy" }),
    });
    expect(res.status).toBe(200);
    const body = create(CreateCustomerResponseSchema, {});
    expect(((await res.json()) as { customer: { displayName: string } }).customer.displayName).toBe("Cy");
    expect(body).toBeDefined();
    expect(CreateCustomerRequestSchema.typeName).toBe("customers.v1.CreateCustomerRequest");
  });
});
