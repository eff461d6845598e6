/**
 * Server reflection on both ports, through the tool a newcomer uses —
 * `npx buf curl` (node_modules/.bin/buf) — against the real app: it lists
 * the methods and calls one by reflection alone over every protocol each
 * port speaks, with and without --http2-prior-knowledge (buf curl reflects
 * over HTTP/2 either way). A reflection client of our own describes a
 * message and finds the google.rpc detail types on both ports, though no
 * service file imports them. A refused call (cancelling a shipped order:
 * FAILED_PRECONDITION, ILLEGAL_TRANSITION) is printed with its details as
 * JSON by buf curl over Connect; over gRPC and gRPC-Web buf curl prints
 * details base64 whatever the server does (it resolves them only against the
 * types compiled into it), so there the test decodes them as grpcurl or
 * Postman do: with a registry built from reflection answers alone.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary, toJson, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerReflection as ServerReflectionV1, ServerReflectionRequestSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { OrderSchema, OrderStatus } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";
import { ADMIN, customer, STAFF, tokenFor } from "../support/auth.js";
import { clientsOver } from "../support/clients.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const run = promisify(execFile);
const BUF = "node_modules/.bin/buf";

let stack: TestStack;
let shippedOrderId: string;
beforeAll(async () => {
  stack = await startTestStack();
  const admin = clientsOver(stack, "grpc", ADMIN);
  const staff = clientsOver(stack, "grpc", STAFF);
  const [productId, customerId] = [await newProduct(admin, 10), await newCustomer(admin)];
  const mine = clientsOver(stack, "grpc", customer(customerId));
  const { order } = await mine.orders.createOrder({ customerId, requestId: "reflection-1", items: [{ productId, quantity: 1 }] });
  shippedOrderId = order!.id;
  await staff.orders.updateOrderStatus({ orderId: shippedOrderId, status: OrderStatus.PROCESSING });
  await staff.orders.updateShippingInfo({ orderId: shippedOrderId, shippingInfo: { carrier: "UPS", trackingNumber: "1Z999" } });
  await staff.orders.updateOrderStatus({ orderId: shippedOrderId, status: OrderStatus.SHIPPED });
});
afterAll(async () => {
  await stack?.close();
});

/** Runs buf curl; a failed RPC exits with its code << 3 and the error JSON on stderr. */
async function bufCurl(args: readonly string[]): Promise<{ exit: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BUF, ["curl", ...args], { timeout: 30_000 });
    return { exit: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    return { exit: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const SERVICES = ["orders.v1.OrderService", "inventory.v1.InventoryService", "customers.v1.CustomerService", "grpc.health.v1.Health"];

/** Every way buf curl reaches each port: the gRPC port speaks gRPC only; the Connect port all three protocols. */
const ways: [string, () => string, string[]][] = [
  ["gRPC port, grpc", () => stack.grpcUrl, ["--protocol", "grpc"]],
  ["gRPC port, grpc, --http2-prior-knowledge", () => stack.grpcUrl, ["--protocol", "grpc", "--http2-prior-knowledge"]],
  ["Connect port, connect", () => stack.httpUrl, ["--protocol", "connect"]],
  ["Connect port, connect, --http2-prior-knowledge", () => stack.httpUrl, ["--protocol", "connect", "--http2-prior-knowledge"]],
  ["Connect port, grpc", () => stack.httpUrl, ["--protocol", "grpc"]],
  ["Connect port, grpc, --http2-prior-knowledge", () => stack.httpUrl, ["--protocol", "grpc", "--http2-prior-knowledge"]],
  ["Connect port, grpcweb", () => stack.httpUrl, ["--protocol", "grpcweb"]],
  ["Connect port, grpcweb, --http2-prior-knowledge", () => stack.httpUrl, ["--protocol", "grpcweb", "--http2-prior-knowledge"]],
];

describe.concurrent.each(ways)("buf curl, %s", (_name, url, flags) => {
  it("lists every service and method", async () => {
    const r = await bufCurl([...flags, "--list-methods", url()]);
    expect(r.stderr).toBe("");
    const methods = r.stdout.trim().split("\n");
    for (const s of SERVICES) expect(methods.some((m) => m.startsWith(`${s}/`))).toBe(true);
    expect(methods).toContain("orders.v1.OrderService/CancelOrder");
    expect(methods).toContain("inventory.v1.InventoryService/ListProducts");
    // Reflection serves the services, it does not list itself.
    expect(methods.some((m) => m.startsWith("grpc.reflection."))).toBe(false);
  });

  it("calls a method by reflection alone", async () => {
    const r = await bufCurl([...flags, "-d", '{"service":""}', `${url()}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(r.stdout)).toEqual({ status: "SERVING" });
  });
});

/** A refused call as buf curl prints it: the Connect error JSON. */
interface PrintedError {
  code: string;
  message: string;
  details: { type: string; value: string; debug?: Record<string, unknown> }[];
}

async function cancelShipped(url: string, flags: readonly string[]): Promise<PrintedError> {
  const staff = `authorization: Bearer ${await tokenFor(STAFF)}`;
  const r = await bufCurl([...flags, "-H", staff, "-d", JSON.stringify({ orderId: shippedOrderId }), `${url}/orders.v1.OrderService/CancelOrder`]);
  expect(r.exit).toBe(9 << 3); // FAILED_PRECONDITION
  return JSON.parse(r.stderr) as PrintedError;
}

describe("a refused call's details", () => {
  it.each([[[] as string[]], [["--http2-prior-knowledge"]]])("buf curl --protocol connect %s prints them as JSON: reason and violations", async (extra) => {
    const err = await cancelShipped(stack.httpUrl, ["--protocol", "connect", ...extra]);
    expect(err.code).toBe("failed_precondition");
    const info = err.details.find((d) => d.type === "google.rpc.ErrorInfo");
    expect(info?.debug).toMatchObject({ reason: "ILLEGAL_TRANSITION", domain: "order-service" });
    const failure = err.details.find((d) => d.type === "google.rpc.PreconditionFailure");
    expect(JSON.stringify(failure?.debug)).toContain("SHIPPED");
  });

  it.each([
    ["gRPC port, grpc", () => stack.grpcUrl, ["--protocol", "grpc"], () => createGrpcTransport({ baseUrl: stack.grpcUrl })],
    ["Connect port, grpc", () => stack.httpUrl, ["--protocol", "grpc"], () => createGrpcTransport({ baseUrl: stack.httpUrl })],
    ["Connect port, grpcweb", () => stack.httpUrl, ["--protocol", "grpcweb"], () => createGrpcWebTransport({ baseUrl: stack.httpUrl, httpVersion: "2" })],
  ] as const)("%s: they decode to JSON with the reflected schema alone", async (_name, url, flags, transport) => {
    const err = await cancelShipped(url(), flags);
    expect(err.code).toBe("failed_precondition");
    const registry = await reflectedRegistry(transport(), err.details.map((d) => d.type));
    const decoded = err.details.map((d) => {
      const desc = registry.getMessage(d.type);
      if (!desc) throw new Error(`${d.type} is not in the reflected schema`);
      return toJson(desc, fromBinary(desc, base64Decode(d.value)), { registry });
    });
    expect(decoded).toContainEqual(expect.objectContaining({ reason: "ILLEGAL_TRANSITION", domain: "order-service" }));
    expect(JSON.stringify(decoded)).toContain("SHIPPED");
  });
});

/** Every reflection client's way in: both versions, every protocol of each port. */
const reflectors: [string, () => Transport][] = [
  ["gRPC port, grpc", () => createGrpcTransport({ baseUrl: stack.grpcUrl })],
  ["Connect port, connect (h2)", () => createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "2" })],
  ["Connect port, grpc", () => createGrpcTransport({ baseUrl: stack.httpUrl })],
  ["Connect port, grpcweb (h2)", () => createGrpcWebTransport({ baseUrl: stack.httpUrl, httpVersion: "2" })],
];

describe.each(reflectors)("reflection, %s", (_name, transport) => {
  it("describes a message: orders.v1.Order and its fields", async () => {
    const registry = await reflectedRegistry(transport(), ["orders.v1.Order"]);
    const order = registry.getMessage("orders.v1.Order");
    // The contract as compiled into gen/, field for field (name, number, type).
    const shape = (m: DescMessage | undefined) => m?.fields.map((f) => [f.name, f.number, f.fieldKind, f.message?.typeName ?? f.enum?.typeName ?? f.scalar]);
    expect(shape(order)).toEqual(shape(OrderSchema));
    expect(shape(order)).toContainEqual(["lines", 4, "list", "orders.v1.OrderLine"]);
    expect(registry.getEnum("orders.v1.OrderStatus")?.values.map((v) => v.name)).toContain("ORDER_STATUS_SHIPPED");
  });

  it("has every error detail type the services send, in v1 and v1alpha", async () => {
    const details = ["google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.PreconditionFailure", "google.rpc.RetryInfo", "google.rpc.Status"];
    for (const version of [ServerReflectionV1, ServerReflectionV1alpha]) {
      const registry = await reflectedRegistry(transport(), details, version);
      for (const d of details) expect(registry.getMessage(d)?.typeName).toBe(d);
    }
  });

  it("answers an unknown symbol with NOT_FOUND in the stream, not a failed call", async () => {
    const answers = await ask(transport(), [{ case: "fileContainingSymbol", value: "nope.v1.Nope" }]);
    expect(answers[0].messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
  });
});

type Ask = NonNullable<Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1]>["messageRequest"];

/** One reflection stream: sends `asks`, returns the answers. */
async function ask(transport: Transport, asks: Ask[], service: typeof ServerReflectionV1 | typeof ServerReflectionV1alpha = ServerReflectionV1) {
  const client = createClient(service as typeof ServerReflectionV1, transport);
  async function* requests() {
    for (const messageRequest of asks) yield { host: "", messageRequest };
  }
  const answers = [];
  for await (const a of client.serverReflectionInfo(requests())) answers.push(a);
  return answers;
}

/**
 * A registry of what reflection returns for `symbols` and every file those
 * import, fetched by name as a reflecting client does.
 */
async function reflectedRegistry(
  transport: Transport,
  symbols: readonly string[],
  service: typeof ServerReflectionV1 | typeof ServerReflectionV1alpha = ServerReflectionV1,
): Promise<FileRegistry> {
  const files = new Map<string, FileDescriptorProto>();
  const take = (answers: Awaited<ReturnType<typeof ask>>) => {
    for (const a of answers) {
      if (a.messageResponse.case !== "fileDescriptorResponse") throw new Error(`reflection refused: ${JSON.stringify(a.messageResponse.value)}`);
      for (const bytes of a.messageResponse.value.fileDescriptorProto) {
        const f = fromBinary(FileDescriptorProtoSchema, bytes);
        files.set(f.name, f);
      }
    }
  };
  take(await ask(transport, symbols.map((value) => ({ case: "fileContainingSymbol", value })), service));
  for (;;) {
    const missing = [...new Set([...files.values()].flatMap((f) => f.dependency))].filter((d) => !files.has(d));
    if (missing.length === 0) break;
    take(await ask(transport, missing.map((value) => ({ case: "fileByFilename", value })), service));
  }
  const ordered: FileDescriptorProto[] = []; // dependencies first, as a FileDescriptorSet must list them
  const visit = (f: FileDescriptorProto) => {
    if (ordered.includes(f)) return;
    f.dependency.forEach((d) => visit(files.get(d)!));
    ordered.push(f);
  };
  files.forEach(visit);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}
