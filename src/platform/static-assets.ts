/**
 * Files the Connect port serves from memory (the API docs: api-docs.ts; the
 * browser console: web-console.ts): each with its content type, an ETag
 * from its bytes and, optionally, its gzip. Answers say `cache-control:
 * no-cache`, so a browser revalidates and gets `304 Not Modified` until the
 * bytes change; HEAD gets the headers only.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import type http from "node:http";
import type http2 from "node:http2";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
  /** The body gzipped, sent to clients that accept it. */
  readonly gzipped?: Buffer;
}

/** A strong ETag of `body`. */
export const etagOf = (body: Buffer): string => `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;

const gzipAsync = promisify(gzip);

/** `body` as an asset of `type`, with its gzip when `compress`. */
export async function assetOf(body: Buffer, type: string, compress: boolean): Promise<Asset> {
  return { type, body, etag: etagOf(body), ...(compress && { gzipped: await gzipAsync(body) }) };
}

/** Answers `req` with `a` (200, or 304 when its ETag matches), plus `headers`. */
export function sendAsset(req: NodeRequest, res: NodeResponse, a: Asset, headers: Record<string, string> = {}): void {
  const common: Record<string, string> = {
    ...headers,
    "content-type": a.type,
    "cache-control": "no-cache",
    etag: a.etag,
    ...(a.gzipped && { vary: "accept-encoding" }),
  };
  if (etagMatches(req.headers["if-none-match"], a.etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const zipped = a.gzipped !== undefined && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = zipped ? a.gzipped! : a.body;
  res.writeHead(200, { ...common, ...(zipped && { "content-encoding": "gzip" }), "content-length": String(body.length) });
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/** Whether an If-None-Match header names `etag` (or is `*`). */
function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return String(header)
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}

/**
 * From `fromDir` up, the first directory holding `relative`, or undefined:
 * how a module finds its package's files both under src/ (tsx) and under
 * dist/src/ (the compiled service).
 */
export function findUp(fromDir: string, relative: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
