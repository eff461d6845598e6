/**
 * A fast path for the common Connect call: a unary RPC, POSTed with an
 * uncompressed application/json or application/proto body. connect-node serves
 * it through its universal handler — a fetch-style request with copied
 * Headers, an async iterable over the body, linked AbortControllers and a
 * DOMException per call — which costs about twice a grpc-js call. This path
 * calls the same wrapped implementation and writes what connect-node's
 * Connect protocol handler writes: status, content-type/content-length,
 * response headers and `trailer-`-prefixed trailers, the error JSON body,
 * connect-timeout-ms, readMaxBytes limits, gzip/br response compression on
 * Accept-Encoding. It parses with connect's own serialization (same error
 * messages and limits). Everything else — GET, streaming, compressed
 * requests, gRPC, gRPC-Web — is left to connect-node (the handler returns
 * false). test/unit/platform/connect-unary.test.ts compares both, byte for byte.
 */
import type http from "node:http";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { compressionNegotiate, createMethodSerializationLookup, validateReadWriteMaxBytes } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  contentTypeUnaryRegExp,
  errorToJsonBytes,
  parseTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { ConnectUnaryContext, type NodeRequest, type NodeResponse } from "./connect-context.js";
import type { ServiceRegistration } from "./handlers.js";
import { createBinaryEncoder, createJsonEncoder, toMessage } from "./message-encoding.js";

type Unary = (req: unknown, ctx: HandlerContext) => Promise<unknown>;

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

/** connect-node's defaults, which createHttpHandler keeps. */
const acceptCompression = [compressionGzip, compressionBrotli];

function route(service: DescService, method: DescMethod, impl: Unary, limits: ReturnType<typeof validateReadWriteMaxBytes>): Route {
  const serialization = createMethodSerializationLookup(method, undefined, undefined, limits);
  const json = createJsonEncoder(method.output);
  const binary = createBinaryEncoder(method.output);
  return {
    service,
    method,
    impl,
    parse: (bytes, isBinary) => serialization.getI(isBinary).parse(bytes),
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
      routes.set(`/${reg.service.typeName}/${method.name}`, route(reg.service, method, impl.bind(reg.impl) as Unary, limits));
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
  const ctx = new ConnectUnaryContext(req, res, r.service, r.method, timeout.timeoutMs, binary ? contentTypeUnaryProto : contentTypeUnaryJson);
  const compression = compressionNegotiate(acceptCompression, null, one(h["accept-encoding"]) ?? null, "Accept-Encoding");
  let status = 200;
  let body: Uint8Array;
  let error: ConnectError | undefined;
  try {
    if (timeout.error) throw timeout.error;
    const input = r.parse(await readBody(req, limits.readMaxBytes, one(h["content-length"])), binary);
    const output = toMessage(r.method.output, await r.impl(input, ctx));
    body = r.encode(output, binary);
  } catch (e) {
    ctx.end(e);
    error = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    status = codeToHttpStatus(error.code);
    body = errorToJsonBytes(error, undefined);
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

/**
 * Reads the whole request body as connect's readAllBytes does: a
 * Content-Length above the limit fails before reading, a body that breaks
 * the limit or its Content-Length fails with the same messages.
 */
function readBody(req: NodeRequest, max: number, lengthHeader: string | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const hint = lengthHeader === undefined ? NaN : parseInt(lengthHeader, 10);
    const hinted = Number.isSafeInteger(hint) && hint >= 0;
    if (hinted && hint > max) {
      reject(new ConnectError(`message size ${hint} is larger than configured readMaxBytes ${max}`, Code.ResourceExhausted));
      return;
    }
    const chunks: Buffer[] = [];
    let count = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    // Stop collecting; the rest of the body flows on unread, and the error response goes out.
    const fail = (e: unknown) => {
      cleanup();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      count += chunk.byteLength;
      if (hinted && count > hint) fail(new ConnectError(`protocol error: promised ${hint} bytes, received ${count}`, Code.InvalidArgument));
      else if (!hinted && count > max) fail(new ConnectError(`message size is larger than configured readMaxBytes ${max}`, Code.ResourceExhausted));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (hinted && count < hint) reject(new ConnectError(`protocol error: promised ${hint} bytes, received ${count}`, Code.InvalidArgument));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, count));
    };
    const onError = (e: unknown) => {
      cleanup();
      reject(e);
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
  });
}
