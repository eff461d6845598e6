/**
 * A fast path for the common Connect call: a unary RPC, POSTed with an
 * uncompressed application/json or application/proto body. connect-node serves
 * it through its universal handler — a fetch-style request with copied
 * Headers, an async iterable over the body, linked AbortControllers and a
 * DOMException per call — which costs about twice a grpc-js call. This path
 * calls the same wrapped implementation and writes what connect-node's
 * Connect protocol handler writes: status, content-type/content-length,
 * response headers and `trailer-`-prefixed trailers, the error JSON body,
 * connect-timeout-ms (the signal aborts when it passes, and wrapService answers
 * deadline_exceeded then, as behind connect-node), readMaxBytes limits, gzip/br response compression on
 * Accept-Encoding (compression.ts: the same encodings, compressed in place). It decodes requests as every path does
 * (request-decoding.ts: strict JSON, errors with an ErrorInfo). Everything else — GET, streaming, compressed
 * requests, gRPC, gRPC-Web — is left to connect-node (the handler returns
 * false). test/unit/platform/connect-unary.test.ts compares both, byte for byte.
 */
import type http from "node:http";
import type http2 from "node:http2";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { validateReadWriteMaxBytes } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  contentTypeUnaryRegExp,
  errorToJsonBytes,
  parseTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import { CALL_ENDED, CallHandlerContext, type CallOrigin } from "./call-handler-context.js";
import { NodeHeaders } from "./header-views.js";
import type { ServiceRegistration } from "./handlers.js";
import { negotiateCompression } from "./compression.js";
import { createBinaryEncoder, createJsonEncoder, toMessage } from "./message-encoding.js";
import { readBody } from "./request-body.js";
import { decodeRequest, requestReadError } from "./request-decoding.js";

type Unary = (req: unknown, ctx: HandlerContext) => Promise<unknown>;

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** HTTP/2 RST_STREAM codes → the name and status connect-node reports for them. */
const RESET_CODES: Readonly<Record<number, readonly [string, Code]>> = {
  0x1: ["PROTOCOL_ERROR", Code.Internal],
  0x2: ["INTERNAL_ERROR", Code.Internal],
  0x3: ["FLOW_CONTROL_ERROR", Code.Internal],
  0x4: ["SETTINGS_TIMEOUT", Code.Internal],
  0x6: ["FRAME_SIZE_ERROR", Code.Internal],
  0x7: ["REFUSED_STREAM", Code.Unavailable],
  0x8: ["CANCEL", Code.Canceled],
  0x9: ["COMPRESSION_ERROR", Code.Internal],
  0xa: ["CONNECT_ERROR", Code.Internal],
  0xb: ["ENHANCE_YOUR_CALM", Code.ResourceExhausted],
  0xc: ["INADEQUATE_SECURITY", Code.PermissionDenied],
  0xd: ["HTTP_1_1_REQUIRED", Code.PermissionDenied],
};

/** The error connect-node aborts a call's signal with when its HTTP/2 stream is reset by the client. */
function resetError(rstCode: number): ConnectError | undefined {
  const c = RESET_CODES[rstCode];
  return c && new ConnectError(`http/2 stream closed with error code ${c[0]} (0x${rstCode.toString(16)})`, c[1]);
}

/** A Connect call as connect-node's context sees it: the full URL, the caller gone when the stream or response closes. */
function connectOrigin(req: NodeRequest, res: NodeResponse): CallOrigin {
  return {
    protocolName: "connect",
    requestMethod: "POST",
    url() {
      const encrypted = "encrypted" in req.socket && req.socket.encrypted;
      const authority = "authority" in req ? req.authority : req.headers.host;
      return new URL(req.url ?? "", `${encrypted ? "https" : "http"}://${authority}`).toString();
    },
    headers: () => new NodeHeaders(req.headers) as unknown as Headers,
    onGone(gone) {
      if ("stream" in req) {
        const closed = () => gone(resetError(req.stream.rstCode) ?? CALL_ENDED);
        if (req.stream.destroyed) closed();
        else req.once("close", closed);
      } else {
        if (req.socket.destroyed) gone(CALL_ENDED);
        else (res as http.ServerResponse).once("close", () => gone(CALL_ENDED));
      }
    },
  };
}

interface Route {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly impl: Unary;
  readonly parse: (bytes: Uint8Array, binary: boolean) => unknown;
  readonly encode: (msg: unknown, binary: boolean) => Uint8Array;
}

export interface ConnectUnaryOptions {
  readonly readMaxBytes: number;
}

/**
 * Encoded error answers, by error object: the body and, when nothing else
 * shapes the headers (no handler-set header or trailer, no compression),
 * the headers. An error answered again — the rate limiter's refusals share
 * one object per retry step (rate-limit.ts, rpc-errors.ts) — is then written
 * with no encoding work: a refusal had cost ~50% more server CPU than the
 * GetOrder it refused (BENCHMARKS.md "Rate limits"). Weak: a one-off
 * error's entry goes with it.
 */
const encodedErrors = new WeakMap<ConnectError, { readonly body: Uint8Array; headers?: http.OutgoingHttpHeaders }>();

function errorAnswer(error: ConnectError) {
  let answer = encodedErrors.get(error);
  if (answer === undefined) {
    answer = { body: errorToJsonBytes(error, undefined) };
    encodedErrors.set(error, answer);
  }
  return answer;
}

function route(service: DescService, method: DescMethod, impl: Unary): Route {
  const json = createJsonEncoder(method.output);
  const binary = createBinaryEncoder(method.output);
  return {
    service,
    method,
    impl,
    parse: (bytes, isBinary) => decodeRequest(method.input, bytes, isBinary),
    // As connect's serialization: failures to encode are INTERNAL.
    encode: (msg, isBinary) => {
      try {
        return isBinary ? binary(msg) : json(msg);
      } catch (e) {
        if (isBinary) throw new ConnectError(`serialize binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
        throw ConnectError.from(e, Code.Internal);
      }
    },
  };
}

/**
 * Returns a handler that serves a request when it is a plain unary Connect
 * call of one of `regs` (and returns true), or leaves it alone (false).
 */
export function createConnectUnaryHandler(
  regs: readonly ServiceRegistration[],
  opts: ConnectUnaryOptions,
): (req: NodeRequest, res: NodeResponse) => boolean {
  const limits = validateReadWriteMaxBytes(opts.readMaxBytes, undefined, undefined);
  const routes = new Map<string, Route>();
  for (const reg of regs) {
    const impls = reg.impl as Record<string, unknown>;
    for (const method of reg.service.methods) {
      const impl = impls[method.localName];
      if (method.methodKind !== "unary" || typeof impl !== "function") continue;
      routes.set(`/${reg.service.typeName}/${method.name}`, route(reg.service, method, impl.bind(reg.impl) as Unary));
    }
  }
  return (req, res) => {
    if (req.method !== "POST") return false;
    const r = routes.get(req.url ?? "");
    if (r === undefined) return false;
    const h = req.headers;
    const contentType = h["content-type"];
    if (contentType === undefined || h["content-encoding"] !== undefined || !contentTypeUnaryRegExp.test(contentType)) return false;
    if (!("authority" in req) && h.host === undefined) return false; // connect-node's own error for that
    serve(r, req, res, /proto$/i.test(contentType), limits).catch(() => res.destroy());
    return true;
  };
}

async function serve(r: Route, req: NodeRequest, res: NodeResponse, binary: boolean, limits: ReturnType<typeof validateReadWriteMaxBytes>) {
  const h = req.headers;
  const timeout = parseTimeout(one(h["connect-timeout-ms"]) ?? null, Number.MAX_SAFE_INTEGER);
  const ctx = new CallHandlerContext(r.method, connectOrigin(req, res), timeout.timeoutMs, undefined, {
    "content-type": binary ? contentTypeUnaryProto : contentTypeUnaryJson,
  });
  const compression = negotiateCompression(null, one(h["accept-encoding"]) ?? null, "Accept-Encoding");
  let status = 200;
  let body: Uint8Array;
  let error: ConnectError | undefined;
  let answer: ReturnType<typeof errorAnswer> | undefined;
  try {
    let input: unknown;
    try {
      if (timeout.error) throw timeout.error;
      input = r.parse(await readBody(req, limits.readMaxBytes, one(h["content-length"])), binary);
    } catch (e) {
      throw requestReadError(e);
    }
    const output = toMessage(r.method.output, await r.impl(input, ctx));
    body = r.encode(output, binary);
  } catch (e) {
    ctx.end(e);
    error = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    status = codeToHttpStatus(error.code);
    answer = errorAnswer(error);
    body = answer.body;
  } finally {
    ctx.end();
  }
  let encoding: string | undefined;
  if (compression.response && body.byteLength >= limits.compressMinBytes) {
    body = await compression.response.compress(body);
    encoding = compression.response.name;
  }
  const { header, trailer } = ctx.touchedHeaders();
  let nodeHeaders: http.OutgoingHttpHeaders;
  if (header === undefined && trailer === undefined && error === undefined && encoding === undefined) {
    // The common case, in the order connect-node writes them (sorted by name).
    nodeHeaders = { "content-length": String(body.byteLength), "content-type": binary ? contentTypeUnaryProto : contentTypeUnaryJson };
  } else if (answer?.headers && header === undefined && trailer === undefined && encoding === undefined) {
    nodeHeaders = answer.headers; // the same error, answered before with nothing else shaping its headers
  } else {
    const merged = ctx.responseHeader;
    if (error) {
      merged.set("content-type", contentTypeUnaryJson);
      error.metadata.forEach((value, key) => merged.set(key, value));
    }
    if (encoding) merged.set("Content-Encoding", encoding);
    const all = trailerMux(merged, ctx.responseTrailer);
    all.set("Content-Length", body.byteLength.toString(10));
    nodeHeaders = toNodeHeaders(all);
    // Only the error's own headers and body went in: any later answer of this error has the same.
    if (answer && header === undefined && trailer === undefined && encoding === undefined) answer.headers = nodeHeaders;
  }
  try {
    res.writeHead(status, nodeHeaders);
    (res as http.ServerResponse).end(body);
  } catch {
    // The client is gone; connect-node drops such write errors too.
  }
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

/** connect-node's webHeaderToNodeHeaders. */
function toNodeHeaders(headers: Headers): http.OutgoingHttpHeaders {
  const o: Record<string, string | string[]> = Object.create(null);
  headers.forEach((value, key) => {
    const existing = o[key];
    if (existing === undefined) o[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else o[key] = [existing, value];
  });
  return o;
}
