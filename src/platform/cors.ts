/**
 * CORS on the Connect port, answered once in the HTTP front (http-server.ts)
 * before any path — the Connect fast path, connect-node (Connect, gRPC-Web)
 * and the plain pages alike — so a browser on an allowed origin can call
 * every RPC and read its errors.
 *
 * - A preflight (OPTIONS with Origin and Access-Control-Request-Method) from
 *   an allowed origin is answered 204 with Connect's methods and headers
 *   (`cors` of @connectrpc/connect) plus the ones this service reads
 *   (authorization, x-actor, the W3C trace context), cached by the browser
 *   for Access-Control-Max-Age. From any other origin it is refused: 403 and
 *   a line saying why, no CORS header.
 * - An actual request from an allowed origin gets Access-Control-Allow-Origin
 *   (the origin itself) and Access-Control-Expose-Headers: gRPC-Web's status,
 *   message and details, the encodings, and the retry hints, so a browser
 *   client reads an error's code, reason and details. Other origins get no
 *   CORS header (the call is still served; the browser hides the answer).
 * - `Vary: Origin` on every answer while some origin is allowed.
 *
 * Tokens travel in the authorization header, never in cookies: no
 * Access-Control-Allow-Credentials.
 */
import type http from "node:http";
import type http2 from "node:http2";
import { cors } from "@connectrpc/connect";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface CorsOptions {
  /**
   * Origins allowed to call from a browser, normalised as config.ts does:
   * `scheme://host[:port]` exactly, `scheme://host:*` (that host on any
   * port), or `*` (any origin). Empty: none.
   */
  readonly origins: readonly string[];
}

/** Request headers a browser may send: Connect's and gRPC-Web's, and the ones this service reads. */
export const CORS_ALLOWED_HEADERS: readonly string[] = [...cors.allowedHeaders, "authorization", "x-actor", "traceparent", "tracestate"];
/** Response headers a browser may read: gRPC(-Web) status and details, encodings, retry hints (rpc-errors.ts). */
export const CORS_EXPOSED_HEADERS: readonly string[] = [...cors.exposedHeaders, "retry-after", "grpc-retry-pushback-ms"];
/** How long a browser may reuse a preflight: two hours, the most Chromium keeps one. */
export const CORS_MAX_AGE_SECONDS = 7200;

/** Whether `origin` (as a browser sends it: lower case, default port left out) is allowed. */
export function originMatcher(origins: readonly string[]): (origin: string) => boolean {
  if (origins.includes("*")) return () => true;
  const exact = new Set(origins.filter((o) => !o.endsWith(":*")));
  const anyPort = new Set(origins.filter((o) => o.endsWith(":*")).map((o) => o.slice(0, -2)));
  return (origin) => exact.has(origin) || (anyPort.size > 0 && anyPort.has(origin.replace(/:\d+$/, "")));
}

/**
 * The CORS step of the HTTP front: answers a preflight (returns true), or
 * adds the CORS headers an answer to `req` needs (returns false).
 */
export function createCors(opts: CorsOptions): (req: NodeRequest, res: NodeResponse) => boolean {
  const allowed = originMatcher(opts.origins);
  const varies = opts.origins.length > 0;
  const methods = cors.allowedMethods.join(", ");
  const allowHeaders = CORS_ALLOWED_HEADERS.join(", ");
  const exposeHeaders = CORS_EXPOSED_HEADERS.join(", ");
  return (req, res) => {
    if (varies) res.setHeader("vary", "Origin");
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    const ok = varies && allowed(origin);
    if (preflight) {
      if (ok) {
        res.writeHead(204, {
          "access-control-allow-origin": origin,
          "access-control-allow-methods": methods,
          "access-control-allow-headers": allowHeaders,
          "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
        });
        res.end();
      } else {
        const body = `403 origin ${JSON.stringify(origin)} may not call this service from a browser: it is not in CORS_ORIGINS\n`;
        res.writeHead(403, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(body)) });
        res.end(body);
      }
      return true;
    }
    if (ok) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", exposeHeaders);
    }
    return false;
  };
}
