/**
 * What the Connect port answers when a request is not a call it can take —
 * no such RPC (404), a verb the RPC does not take (405), a content type no
 * protocol here speaks (415), a bidi stream over HTTP/1.1 (505). connect-node
 * sends these with an empty body; here they say what to send instead, as a
 * Connect error (JSON: code, message, an ErrorInfo) so curl users read the
 * message and Connect clients show it. The HTTP status stays what Connect
 * and HTTP prescribe, with `Allow` on a 405 (RFC 9110) and `Accept-Post` on a
 * 415 (as connect-go does). Every request that is not a plain unary Connect
 * POST goes to connect-node (connect-adapter.ts), so this is written in one
 * place for both Connect paths.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { contentTypeUnaryJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { ERROR_DOMAIN } from "./rpc-errors.js";

export interface ProtocolRefusal {
  readonly status: number;
  readonly header: Headers;
  readonly body: Uint8Array;
}

/** Content types a POST may carry, per kind of method (connect-node's three protocols; gRPC-Web's text mode is not served). */
const UNARY_TYPES = "application/json or application/proto (Connect), application/grpc[+proto|+json] (gRPC), application/grpc-web[+proto|+json] (gRPC-Web)";
const STREAM_TYPES = "application/connect+json or application/connect+proto (Connect), application/grpc[+proto|+json] (gRPC), application/grpc-web[+proto|+json] (gRPC-Web)";
const ACCEPT_UNARY = "application/json, application/proto, application/grpc, application/grpc+proto, application/grpc+json, application/grpc-web, application/grpc-web+proto, application/grpc-web+json";
const ACCEPT_STREAM = "application/connect+json, application/connect+proto, application/grpc, application/grpc+proto, application/grpc+json, application/grpc-web, application/grpc-web+proto, application/grpc-web+json";
const GET_FORM = "GET ?encoding=json&message=<url-encoded JSON> (binary: encoding=proto&base64=1&message=<base64url>)";

/** Connect GET is for unary methods marked `idempotency_level = NO_SIDE_EFFECTS`. */
export const allowsGet = (m: DescMethod) => m.methodKind === "unary" && m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;

function refusal(status: number, reason: string, message: string, header: Record<string, string> = {}): ProtocolRefusal {
  const err = new ConnectError(message, Code.Unimplemented, undefined, [{ desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN } }]);
  return { status, header: new Headers({ ...header, "content-type": contentTypeUnaryJson }), body: errorToJsonBytes(err, undefined) };
}

/** 404: no RPC (or page) at `path`; `example`, an RPC's path that is served here. */
export function notFound(path: string, example?: string): ProtocolRefusal {
  return refusal(
    404,
    "METHOD_NOT_FOUND",
    `nothing at ${path}: RPCs are at /<package.Service>/<Method>${example ? `, e.g. ${example}` : ""}; ` +
      "`buf curl --list-methods` on this port's base URL lists them",
  );
}

/**
 * connect-node's bodiless refusal (`status`, `header`) of a request for
 * `method`, with the body it left out; undefined when `status` is not one of
 * those. connect's own headers (`Connection: close` on a 505) are kept.
 */
export function explainRefusal(
  status: number,
  header: Headers | undefined,
  method: DescMethod,
  req: { readonly method: string; readonly contentType: string | null },
): ProtocolRefusal | undefined {
  const httpMethod = req.method;
  const rpc = `${method.parent.typeName}/${method.name}`;
  const get = allowsGet(method);
  const posts = method.methodKind === "unary" ? UNARY_TYPES : STREAM_TYPES;
  let r: ProtocolRefusal;
  if (status === 405) {
    const why =
      httpMethod === "GET" && method.methodKind === "unary"
        ? `${rpc} has side effects, so it is not served over GET (only methods marked idempotency_level = NO_SIDE_EFFECTS are)`
        : `${httpMethod} is not a way to call ${rpc}`;
    r = refusal(405, "HTTP_METHOD_NOT_ALLOWED", `${why}: POST it with content-type ${posts}${get ? `, or ${GET_FORM}` : ""}`, {
      allow: get ? "GET, POST" : "POST",
    });
  } else if (status === 415) {
    const message =
      httpMethod === "GET"
        ? `a Connect GET of ${rpc} needs ${GET_FORM}; or POST it with content-type ${posts}`
        : `${req.contentType === null ? `${rpc} needs a content-type` : `${rpc} does not take content-type ${req.contentType}`}: ` +
          `POST it with content-type ${posts}${get ? `; or ${GET_FORM}` : ""}`;
    r = refusal(415, "UNSUPPORTED_MEDIA_TYPE", message, { "accept-post": method.methodKind === "unary" ? ACCEPT_UNARY : ACCEPT_STREAM });
  } else if (status === 505) {
    r = refusal(505, "HTTP2_REQUIRED", `${rpc} is a bidirectional stream: call it over HTTP/2 (cleartext h2c here, e.g. buf curl --http2-prior-knowledge)`);
  } else {
    return undefined;
  }
  header?.forEach((v, k) => r.header.set(k, v));
  r.header.set("content-type", contentTypeUnaryJson);
  return r;
}
