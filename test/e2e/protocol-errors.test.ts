/**
 * What the Connect port says to a request that is no call it can take
 * (src/platform/rpc/protocol-errors.ts): an unknown path, a verb or content type
 * no protocol here accepts, a bidi stream over HTTP/1.1. Each answer keeps
 * the status Connect and HTTP prescribe (404, 405 with Allow, 415 with
 * Accept-Post, 505) and says what to send instead, as Connect error JSON
 * with an ErrorInfo — over HTTP/1.1 and h2c, for requests the fast path
 * passes on and those that go straight to connect-node. And the Connect GET
 * the answers point at works as the README documents it.
 */
import http2 from "node:http2";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListProductsRequestSchema } from "../../gen/inventory/v1/inventory_service_pb.js";
import { createHttpHandler, createHttpServer, type HttpServer } from "../../src/platform/rpc/http-server.js";
import { startTestStack, type TestStack } from "../support/servers.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

interface ErrorJson {
  code: string;
  message: string;
  details: { type: string; debug?: { reason?: string; domain?: string } }[];
}

async function refusal(res: Response, status: number, reason: string): Promise<ErrorJson> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json");
  const body = (await res.json()) as ErrorJson;
  expect(body.code).toBe("unimplemented");
  expect(body.details.find((d) => d.type === "google.rpc.ErrorInfo")?.debug).toEqual({ reason, domain: "order-service" });
  return body;
}

const url = (path: string) => `${stack.httpUrl}${path}`;
const CREATE_ORDER = "/orders.v1.OrderService/CreateOrder";
const LIST_PRODUCTS = "/inventory.v1.InventoryService/ListProducts";

describe("over HTTP/1.1", () => {
  it("an unknown path: 404 naming where RPCs are", async () => {
    for (const init of [{ method: "GET" }, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }]) {
      const body = await refusal(await fetch(url("/nope.v1.Nope/Do"), init), 404, "METHOD_NOT_FOUND");
      expect(body.message).toContain("/<package.Service>/<Method>");
      expect(body.message).toContain("--list-methods");
    }
  });

  it("a GET of a method with side effects: 405, Allow: POST, and how to POST it", async () => {
    const res = await fetch(url(CREATE_ORDER));
    expect(res.headers.get("allow")).toBe("POST");
    const body = await refusal(res, 405, "HTTP_METHOD_NOT_ALLOWED");
    expect(body.message).toContain("orders.v1.OrderService/CreateOrder has side effects");
    expect(body.message).toContain("application/json or application/proto (Connect)");
  });

  it("another verb: 405 with Allow (GET too where the method has no side effects)", async () => {
    const put = await fetch(url(LIST_PRODUCTS), { method: "PUT", body: "{}" });
    expect(put.headers.get("allow")).toBe("GET, POST");
    expect((await refusal(put, 405, "HTTP_METHOD_NOT_ALLOWED")).message).toContain("?encoding=json&message=");
    const del = await fetch(url(CREATE_ORDER), { method: "DELETE" });
    expect(del.headers.get("allow")).toBe("POST");
    await refusal(del, 405, "HTTP_METHOD_NOT_ALLOWED");
  });

  it("a POST without a content type, or one no protocol here speaks: 415 listing what to send, Accept-Post", async () => {
    for (const contentType of [undefined, "text/plain", "application/x-www-form-urlencoded", "application/grpc-web-text"]) {
      const body = new TextEncoder().encode("{}"); // bytes: fetch adds no content type of its own
      const res = await fetch(url(LIST_PRODUCTS), { method: "POST", headers: contentType ? { "content-type": contentType } : {}, body });
      expect(res.headers.get("accept-post")).toContain("application/json, application/proto, application/grpc");
      const { message } = await refusal(res, 415, "UNSUPPORTED_MEDIA_TYPE");
      expect(message).toContain(
        contentType ? `inventory.v1.InventoryService/ListProducts does not take content-type ${contentType}: ` : "inventory.v1.InventoryService/ListProducts needs a content-type: ",
      );
      expect(message).toContain("POST it with content-type application/json or application/proto (Connect), application/grpc[+proto|+json] (gRPC)");
      expect(message).toContain("application/grpc-web[+proto|+json] (gRPC-Web)");
      expect(message).toContain("; or GET ?encoding=json&message=<url-encoded JSON>");
    }
  });

  it("a POST to a method with side effects does not offer GET", async () => {
    const body = await refusal(await fetch(url(CREATE_ORDER), { method: "POST", body: new Uint8Array([123, 125]) }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(body.message).toContain("needs a content-type");
    expect(body.message).not.toContain("GET");
  });

  it("a unary content type for a server stream: 415 naming the streaming ones", async () => {
    const res = await fetch(url("/orders.v1.OrderService/WatchOrder"), { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.headers.get("accept-post")).toContain("application/connect+json");
    expect((await refusal(res, 415, "UNSUPPORTED_MEDIA_TYPE")).message).toContain("application/connect+json or application/connect+proto (Connect)");
  });

  it("a GET without ?encoding: 415 showing the GET form", async () => {
    const body = await refusal(await fetch(url(LIST_PRODUCTS)), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(body.message).toContain("a Connect GET of inventory.v1.InventoryService/ListProducts needs GET ?encoding=json&message=<url-encoded JSON>");
  });

  it("a bidi stream (reflection) over HTTP/1.1: 505, the connection closed, and why", async () => {
    const res = await fetch(url("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"), {
      method: "POST",
      headers: { "content-type": "application/connect+proto" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    expect(res.headers.get("connection")).toBe("close");
    expect((await refusal(res, 505, "HTTP2_REQUIRED")).message).toContain("bidirectional stream: call it over HTTP/2");
  });
});

describe("over h2c", () => {
  it("the same answers", async () => {
    const session = http2.connect(stack.httpUrl);
    try {
      const send = (headers: http2.OutgoingHttpHeaders, body?: string) =>
        new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: ErrorJson }>((resolve, reject) => {
          const req = session.request(headers);
          let text = "";
          let h: http2.IncomingHttpHeaders = {};
          req.on("response", (r) => (h = r));
          req.setEncoding("utf8").on("data", (c: string) => (text += c));
          req.on("end", () => resolve({ status: Number(h[":status"]), headers: h, body: JSON.parse(text) as ErrorJson }));
          req.on("error", reject);
          req.end(body);
        });
      const notFound = await send({ ":method": "POST", ":path": "/nope.v1.Nope/Do", "content-type": "application/json" }, "{}");
      expect([notFound.status, notFound.body.code]).toEqual([404, "unimplemented"]);
      const unsupported = await send({ ":method": "POST", ":path": LIST_PRODUCTS, "content-type": "text/plain" }, "{}");
      expect(unsupported.status).toBe(415);
      expect(unsupported.headers["accept-post"]).toContain("application/json");
      const get = await send({ ":method": "GET", ":path": CREATE_ORDER });
      expect([get.status, get.headers.allow]).toEqual([405, "POST"]);
    } finally {
      session.close();
    }
  });
});

describe("Connect GET, as the README shows it", () => {
  it("?encoding=json&message=<url-encoded JSON> calls a method without side effects", async () => {
    const res = await fetch(url(`${LIST_PRODUCTS}?encoding=json&message=${encodeURIComponent(JSON.stringify({ pageSize: 2 }))}`));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({});
  });

  it("with connect=v1, and binary as base64url with base64=1", async () => {
    const message = base64Encode(toBinary(ListProductsRequestSchema, create(ListProductsRequestSchema, { pageSize: 2 })), "url");
    const res = await fetch(url(`${LIST_PRODUCTS}?connect=v1&encoding=proto&base64=1&message=${message}`));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/proto");
  });

  it("a bad message is the caller's error, INVALID_ARGUMENT with its reason", async () => {
    const res = await fetch(url(`${LIST_PRODUCTS}?encoding=json&message=${encodeURIComponent('{"pageSize":"many"}')}`));
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).code).toBe("invalid_argument");
  });
});

describe("reflection on the Connect port follows GRPC_REFLECTION", () => {
  let on: HttpServer;
  let off: HttpServer;
  const ports: Record<string, number> = {};
  beforeAll(async () => {
    on = createHttpServer(createHttpHandler([], { maxReceiveMessageBytes: 1024, ready: () => true, reflection: true }));
    off = createHttpServer(createHttpHandler([], { maxReceiveMessageBytes: 1024, ready: () => true }));
    ports.on = await on.listen("127.0.0.1", 0);
    ports.off = await off.listen("127.0.0.1", 0);
  });
  afterAll(async () => {
    await on?.close();
    await off?.close();
  });

  it("off: the reflection path is unknown (404); on: served", async () => {
    const post = (port: number) =>
      fetch(`http://127.0.0.1:${port}/grpc.reflection.v1.ServerReflection/ServerReflectionInfo`, {
        method: "POST",
        headers: { "content-type": "application/connect+proto" },
        body: new Uint8Array([0, 0, 0, 0, 0]),
      });
    expect((await post(ports.off)).status).toBe(404);
    expect((await post(ports.on)).status).toBe(505); // there, and needing HTTP/2
  });
});
