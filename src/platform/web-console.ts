/**
 * The browser console on the Connect port (README "Use it from a browser"):
 * GET / is its page, /console/<file> its assets — built at build time by
 * web/build.mjs into dist/web — and /console/demo-identities hands out demo
 * tokens where that is safe (src/demo-identities.ts), to the page on this
 * machine only.
 * Nothing else is answered here, so RPC paths, /healthz, /readyz, /metrics,
 * /events, /docs and /openapi.json pass untouched.
 *
 * The files are the plain files of one directory, read when first asked for
 * and kept in memory (a few hundred KB): a path names one of them or nothing,
 * so no path reaches outside it. Every answer carries a strict
 * Content-Security-Policy: scripts, styles and calls from this origin only,
 * nothing inline, Trusted Types for any HTML sink, no framing.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import type http from "node:http";
import type http2 from "node:http2";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HttpPage } from "./rpc/http-server.js";
import { etagOf, findUp, sendAsset, type Asset } from "./static-assets.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export const CONSOLE_PREFIX = "/console/";
export const DEMO_IDENTITIES_PATH = "/console/demo-identities";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'", // the page's RPCs and demo identities: its own origin, so no CORS either
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

const NOT_BUILT = "The browser console is not built: npm run build (or node web/build.mjs alone) writes it to dist/web; then restart the service.\n";

/** File names the console may serve: no separators, no leading dot. */
const SERVABLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const NOT_OFFERED =
  "this server does not hand out demo identities: only a zero-setup server does (embedded database, its generated " +
  "development key, no keys configured), and only to a browser on its own machine";

export interface WebConsoleOptions {
  /** The built console (index.html, console.js, console.css, …); default: dist/web of this package (defaultConsoleDir). */
  readonly dir?: string;
  /** Demo identities (src/demo-identities.ts), when this server may hand them out; without, the page asks for a pasted token. */
  readonly demoIdentities?: { issue(): Promise<readonly object[]> };
}

export function createWebConsole(opts: WebConsoleOptions = {}): HttpPage {
  const dir = opts.dir ?? defaultConsoleDir();
  let assets: Map<string, Asset> | undefined;
  const asset = (name: string) => (assets ??= loadAssets(dir))?.get(name);
  return {
    handle(req, res) {
      const path = pathOf(req.url);
      if (path !== "/" && !path.startsWith(CONSOLE_PREFIX)) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        answer(res, 405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }, "405 method not allowed\n");
      } else if (path === DEMO_IDENTITIES_PATH) {
        void serveDemoIdentities(req, res, opts.demoIdentities);
      } else {
        const name = path === "/" ? "index.html" : path.slice(CONSOLE_PREFIX.length);
        const file = SERVABLE_NAME.test(name) ? asset(name) : undefined;
        if (file) serveFile(req, res, file);
        else if (path === "/") answer(res, 404, { "content-type": "text/plain; charset=utf-8" }, NOT_BUILT);
        else answer(res, 404, { "content-type": "text/plain; charset=utf-8" }, "404 not found\n");
      }
      return true;
    },
  };
}

/** The path of a request target, without query or fragment. */
function pathOf(url: string | undefined): string {
  if (!url) return "";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function answer(res: NodeResponse, status: number, headers: Record<string, string>, body?: string | Buffer) {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  if (body === undefined) res.end();
  else res.end(body);
}

const serveFile = (req: NodeRequest, res: NodeResponse, file: Asset) => sendAsset(req, res, file, SECURITY_HEADERS);

async function serveDemoIdentities(req: NodeRequest, res: NodeResponse, demo: WebConsoleOptions["demoIdentities"]) {
  const json = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
  // "None here" is an answer, not an error (a 404 would be logged in every browser's console).
  if (!demo || !mayReceiveDemoTokens(req)) return answer(res, 200, json, JSON.stringify({ identities: [], message: NOT_OFFERED }));
  try {
    const identities = await demo.issue();
    answer(res, 200, json, req.method === "HEAD" ? undefined : JSON.stringify({ identities }));
  } catch {
    answer(res, 500, json, JSON.stringify({ message: "could not sign the demo tokens" }));
  }
}

/**
 * Whether a request may be handed demo tokens: it comes from this machine
 * (a loopback peer) for a loopback name (a page elsewhere that rebinds its
 * own name to 127.0.0.1 still sends that name), and from the console's own
 * origin — with CORS configured (cors.ts), a page on an allowed origin could
 * otherwise read the answer.
 */
export function mayReceiveDemoTokens(req: Pick<NodeRequest, "headers" | "socket">): boolean {
  const raw = req.headers.host ?? req.headers[":authority"];
  const host = typeof raw === "string" ? raw.toLowerCase() : undefined;
  if (!isLoopbackAddress(req.socket?.remoteAddress) || !isLoopbackHost(host)) return false;
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${host}` || origin === `https://${host}`;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, "");
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** localhost (and *.localhost, which browsers keep on loopback), 127.x.x.x or [::1], with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  const name = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d+$/, "");
  return name === "localhost" || name.endsWith(".localhost") || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * The directory's plain files (no subdirectories, no symlinks), or undefined
 * when it holds no built console — or is being rebuilt right now (asked again
 * at the next request).
 */
function loadAssets(dir: string): Map<string, Asset> | undefined {
  try {
    const names = readdirSync(dir);
    if (!names.includes("index.html")) return undefined;
    const assets = new Map<string, Asset>();
    for (const name of names) {
      const path = join(dir, name);
      if (!SERVABLE_NAME.test(name) || !lstatSync(path).isFile()) continue;
      const body = readFileSync(path);
      assets.set(name, { body, type: CONTENT_TYPES[extname(name)] ?? "application/octet-stream", etag: etagOf(body) });
    }
    return assets;
  } catch {
    return undefined;
  }
}

/**
 * dist/web of this package: from this module's directory up, the first with
 * a built console in dist/web — src/platform under tsx and tests, dist/src/…
 * in production both find the package's — else the nearest package root's.
 */
export function defaultConsoleDir(from: string = fileURLToPath(import.meta.url)): string {
  const here = dirname(from);
  const root = findUp(here, join("dist", "web", "index.html")) ?? findUp(here, "package.json") ?? here;
  return join(root, "dist", "web");
}
