/**
 * connect-node's router on Node's http/http2 requests, for every call the
 * Connect fast path (connect-unary.ts) leaves: Connect GET, compressed
 * Connect unary, Connect streaming, gRPC and gRPC-Web on the HTTP port.
 *
 * It is connectNodeAdapter's dispatch (universalRequestFromNodeRequest →
 * the router's handler → universalResponseToNodeResponse) with one step
 * added: the request is read and checked before connect sees it. connect-es
 * answers INTERNAL when a binary body does not parse ("parse binary:
 * premature EOF"), when a GET's base64 is bad, or when an envelope is
 * compressed without an encoding, and gives its protocol errors (bad
 * timeout header, unknown compression, broken framing) no ErrorInfo. Here
 * every one of those is the caller's error: INVALID_ARGUMENT (or
 * RESOURCE_EXHAUSTED / UNIMPLEMENTED as connect says) with an ErrorInfo,
 * decoded as on every other path (request-decoding.ts). The error travels
 * to connect as the failure of reading the body, so connect still writes it
 * in the call's own protocol; a GET has no body, so its error is written
 * here (Connect unary errors are plain JSON).
 *
 * Checking costs a second parse of the message, on these paths only (the
 * common unary POST takes the fast path). test/unit/platform/connect-adapter.test.ts
 * compares it with connectNodeAdapter on well-formed calls. Client and bidi
 * streams (only reflection has one) go to connect unchecked, read as they come.
 *
 * connect's refusals of what is no call at all — an unknown path (404), a
 * wrong verb (405), a content type it does not speak (415), a bidi stream over
 * HTTP/1.1 (505) — have no body; here they get one saying what to send
 * (protocol-errors.ts).
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createConnectRouter, type ConnectRouter } from "@connectrpc/connect";
import {
  createAsyncIterable,
  pipe,
  transformDecompressEnvelope,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import * as connectProtocol from "@connectrpc/connect/protocol-connect";
import * as grpcProtocol from "@connectrpc/connect/protocol-grpc";
import * as grpcWebProtocol from "@connectrpc/connect/protocol-grpc-web";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { ACCEPT_COMPRESSION, negotiateCompression } from "./compression.js";
import type { ServiceRegistration } from "./handlers.js";
import { allowsGet, explainRefusal, notFound, type ProtocolRefusal } from "./protocol-errors.js";
import type { ConnectService } from "./reflection.js";
import { readBody, refusedUploadSettled } from "./request-body.js";
import { CONNECT_JSON_OPTIONS, decodeRequest, requestReadError } from "./request-decoding.js";
import type { NodeRequest, NodeResponse } from "./connect-unary.js";

/** Room for an envelope's 5-byte prefix and a Connect end-of-stream message beside the one request message. */
const FRAMING_ALLOWANCE = 1024;

/** How a protocol frames the request and names its headers. */
interface Framing {
  readonly binary: boolean;
  /** Length-prefixed envelopes (gRPC, gRPC-Web, Connect streaming), or the bare message (Connect unary). */
  readonly enveloped: boolean;
  /** Envelope flag of Connect's end-of-stream message, which carries no request. */
  readonly endStreamFlag?: number;
  readonly encodingHeader: string;
  readonly acceptEncodingHeader: string;
  readonly timeoutHeader: string;
  readonly parseTimeout: (value: string | null) => { error?: ConnectError };
}

const maxTimeout = Number.MAX_SAFE_INTEGER;

function framingOf(contentType: string | null): Framing | undefined {
  if (contentType === null) return undefined;
  const connectTimeout = (v: string | null) => connectProtocol.parseTimeout(v, maxTimeout);
  const grpcTimeout = (v: string | null) => grpcProtocol.parseTimeout(v, maxTimeout);
  const connect = connectProtocol.parseContentType(contentType);
  if (connect) {
    return connect.stream
      ? { binary: connect.binary, enveloped: true, endStreamFlag: connectProtocol.endStreamFlag, encodingHeader: connectProtocol.headerStreamEncoding, acceptEncodingHeader: connectProtocol.headerStreamAcceptEncoding, timeoutHeader: connectProtocol.headerTimeout, parseTimeout: connectTimeout }
      : { binary: connect.binary, enveloped: false, encodingHeader: connectProtocol.headerUnaryEncoding, acceptEncodingHeader: connectProtocol.headerUnaryAcceptEncoding, timeoutHeader: connectProtocol.headerTimeout, parseTimeout: connectTimeout };
  }
  const grpcWeb = grpcWebProtocol.parseContentType(contentType);
  if (grpcWeb && !grpcWeb.text) {
    return { binary: grpcWeb.binary, enveloped: true, encodingHeader: grpcWebProtocol.headerEncoding, acceptEncodingHeader: grpcWebProtocol.headerAcceptEncoding, timeoutHeader: grpcWebProtocol.headerTimeout, parseTimeout: grpcTimeout };
  }
  const grpc = grpcProtocol.parseContentType(contentType);
  if (grpc) {
    return { binary: grpc.binary, enveloped: true, encodingHeader: grpcProtocol.headerEncoding, acceptEncodingHeader: grpcProtocol.headerAcceptEncoding, timeoutHeader: grpcProtocol.headerTimeout, parseTimeout: grpcTimeout };
  }
  return undefined; // connect answers 415
}

/** Reads and checks the one request message of a POST; throws the caller's error. */
async function readRequest(method: DescMethod, f: Framing, header: Headers, nodeReq: NodeRequest, readMaxBytes: number) {
  const timeout = f.parseTimeout(header.get(f.timeoutHeader));
  if (timeout.error) throw timeout.error;
  const compression = negotiateCompression(header.get(f.encodingHeader), header.get(f.acceptEncodingHeader), f.acceptEncodingHeader);
  if (compression.error) throw compression.error;
  const length = f.enveloped ? undefined : (header.get("content-length") ?? undefined);
  // Never connect's readAllBytes over the request: it iterates the Node stream and destroys it on a body too large.
  const bytes = await readBody(nodeReq, readMaxBytes + (f.enveloped ? FRAMING_ALLOWANCE : 0), length);
  if (!f.enveloped) {
    decodeRequest(method.input, compression.request ? await compression.request.decompress(bytes, readMaxBytes) : bytes, f.binary);
    return bytes;
  }
  let messages = 0;
  const envelopes = pipe(createAsyncIterable([bytes]), transformSplitEnvelope(readMaxBytes), transformDecompressEnvelope(compression.request, readMaxBytes));
  for await (const env of envelopes) {
    if (f.endStreamFlag !== undefined && (env.flags & f.endStreamFlag) === f.endStreamFlag) continue;
    messages++;
    decodeRequest(method.input, env.data, f.binary);
  }
  if (messages !== 1) throw new ConnectError(`expected exactly one request message, got ${messages}`, Code.InvalidArgument);
  return bytes;
}

/** A body that fails with `err` when connect reads it: connect then answers it in the call's protocol. */
async function* failing(err: ConnectError): AsyncIterable<Uint8Array> {
  yield* [];
  throw err;
}

/** Checks a Connect GET's query (message, base64, compression); the error response when it does not hold. */
async function checkGet(method: DescMethod, url: string, readMaxBytes: number): Promise<UniversalServerResponse | undefined> {
  const q = new URL(url).searchParams;
  const encoding = q.get("encoding");
  if (encoding !== "json" && encoding !== "proto") return undefined; // connect answers 415
  try {
    const message = q.get("message") ?? "";
    let bytes: Uint8Array;
    try {
      bytes = q.get("base64") === "1" ? base64Decode(message) : new TextEncoder().encode(message);
    } catch {
      throw new ConnectError("the message query parameter is not valid base64", Code.InvalidArgument);
    }
    const compression = negotiateCompression(q.get("compression"), null, "Accept-Encoding");
    if (compression.error) throw compression.error;
    if (compression.request) bytes = await compression.request.decompress(bytes, readMaxBytes);
    decodeRequest(method.input, bytes, encoding === "proto");
    return undefined;
  } catch (e) {
    const err = requestReadError(e);
    const header = new Headers({ "content-type": connectProtocol.contentTypeUnaryJson });
    err.metadata.forEach((v, k) => header.set(k, v));
    return { status: connectProtocol.codeToHttpStatus(err.code), header, body: createAsyncIterable([connectProtocol.errorToJsonBytes(err, {})]) };
  }
}

/** The request connect should see: checked, its body replaced by the bytes read, or by the error found. */
async function checked(h: UniversalHandler, req: UniversalServerRequest, nodeReq: NodeRequest, readMaxBytes: number): Promise<UniversalServerRequest | UniversalServerResponse> {
  // A client stream (reflection's bidi stream) is read by connect as it comes: reading it whole first would never end.
  if (h.method.methodKind === "client_streaming" || h.method.methodKind === "bidi_streaming") return req;
  if (req.method === "GET") return (await checkGet(h.method, req.url, readMaxBytes)) ?? req;
  const f = req.method === "POST" ? framingOf(req.header.get("content-type")) : undefined;
  if (!f) return req;
  try {
    const bytes = await readRequest(h.method, f, req.header, nodeReq, readMaxBytes);
    return { ...req, body: createAsyncIterable([bytes]) };
  } catch (e) {
    // What connect would have refused before reading the body must not reach it: the body carries the error.
    req.header.delete(f.timeoutHeader);
    req.header.delete(f.encodingHeader);
    req.header.delete("content-length");
    // These protocols answer a refused body with HTTP 200: wait for the client to stop sending (request-body.ts).
    await refusedUploadSettled(nodeReq);
    return { ...req, body: failing(requestReadError(e)) };
  }
}

const isResponse = (x: UniversalServerRequest | UniversalServerResponse): x is UniversalServerResponse => "status" in x;

export interface ConnectAdapterOptions {
  readonly readMaxBytes: number;
  /** Services served as they are, not wrapped by wrapService (reflection, anonymous as on the gRPC port). */
  readonly unwrapped?: readonly ConnectService[];
}

/** connect's bodiless 405/415/505, with a body saying what to send (protocol-errors.ts). */
function explained(uRes: UniversalServerResponse, h: UniversalHandler, req: NodeRequest): UniversalServerResponse {
  if (uRes.body !== undefined) return uRes;
  const r = explainRefusal(uRes.status, uRes.header, h.method, { method: req.method ?? "", contentType: req.headers["content-type"] ?? null });
  return r ? { status: r.status, header: r.header, body: createAsyncIterable([r.body]) } : uRes;
}

function writeRefusal(res: NodeResponse, r: ProtocolRefusal) {
  const header: Record<string, string> = {};
  r.header.forEach((v, k) => (header[k] = v));
  res.writeHead(r.status, { ...header, "content-length": String(r.body.byteLength) });
  (res as { end(b: Uint8Array): void }).end(r.body);
}

/** A Node request handler serving `regs` with connect-node, requests checked first. */
export function createConnectAdapter(regs: readonly ServiceRegistration[], opts: ConnectAdapterOptions): (req: NodeRequest, res: NodeResponse) => void {
  const router: ConnectRouter = createConnectRouter({
    readMaxBytes: opts.readMaxBytes,
    jsonOptions: CONNECT_JSON_OPTIONS,
    acceptCompression: [...ACCEPT_COMPRESSION],
  });
  for (const r of [...regs, ...(opts.unwrapped ?? [])]) router.service(r.service, r.impl as never);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const example = (router.handlers.find((h) => allowsGet(h.method)) ?? router.handlers[0])?.requestPath;

  return (req, res) => {
    const path = req.url?.split("?", 2)[0] ?? "";
    const h = paths.get(path);
    if (!h) return writeRefusal(res, notFound(path, example));
    if (!("authority" in req) && req.headers.host === undefined) {
      // connect-node throws for a request with no authority; here it is a bad request.
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("missing Host header");
      return;
    }
    const uReq = universalRequestFromNodeRequest(req as never, res as never, undefined, undefined);
    checked(h, uReq, req, opts.readMaxBytes)
      .then((r) => (isResponse(r) ? r : h(r)))
      .then((uRes) => universalResponseToNodeResponse(explained(uRes, h, req), res as never))
      .catch(() => {
        // The client went away while we wrote (connect-node drops these too), or a bug: never leave the socket open.
        if (!res.writableEnded) res.destroy();
      });
  };
}
