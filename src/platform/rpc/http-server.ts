/**
 * The Connect port: Connect (JSON and binary), gRPC-Web and gRPC over one
 * listener that speaks HTTP/1.1 and cleartext HTTP/2 (h2c, sniffed from the
 * connection preface), plus /healthz (alive) and /readyz (database reachable).
 * Plain unary Connect calls take the fast path of connect-unary.ts; the rest
 * goes to connect-node (connect-adapter.ts, which checks requests first).
 * What is HTTP-level is answered here, once, before either path: CORS
 * (cors.ts). Server reflection is served on this port too (reflection.ts).
 */
import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import { createConnectAdapter } from "./connect-adapter.js";
import { createConnectionFront, createConnectionLimiter, type ConnectionLimiter } from "./connection-front.js";
import { createConnectUnaryHandler } from "./connect-unary.js";
import { createCors, type CorsOptions } from "../cors.js";
import type { ServiceRegistration } from "./handlers.js";
import { reflectionServices } from "./reflection.js";

export interface HttpServerOptions {
  readonly maxReceiveMessageBytes: number;
  /** True when the server can take traffic (the database answers). */
  readonly ready: () => boolean;
  /** More for /readyz's body, not deciding readiness (the event relays' lag: a broker outage never takes the instance out). */
  readonly readiness?: () => Record<string, unknown>;
  /**
   * Serve plain unary Connect calls (POST, uncompressed JSON or proto) on
   * the fast path of connect-unary.ts rather than through connect-node
   * (default true; false is for comparing the two).
   */
  readonly connectFastPath?: boolean;
  /** Browsers on these origins may call (cors.ts); without it, none may (a preflight is refused). */
  readonly cors?: CorsOptions;
  /** Serve gRPC server reflection (v1, v1alpha) for the registered services on this port too (default false). */
  readonly reflection?: boolean;
  /** GET /metrics (metrics.ts): answered when `allowed` says so for the request's authorization header, else 401. */
  readonly metrics?: {
    serve(req: NodeRequest, res: NodeResponse): void;
    allowed(authorization: string | null): boolean | Promise<boolean>;
  };
  /** /events… (events-endpoint.ts): the outbox for operators and `npm run events`. */
  readonly events?: { handle(req: NodeRequest, res: NodeResponse): boolean };
  /**
   * Other HTTP pages on this port (the API docs, the browser console), asked
   * in order before the RPC handlers: each answers (true) or passes (false).
   */
  readonly pages?: readonly HttpPage[];
}

/** A handler of some plain-HTTP paths on the Connect port. */
export interface HttpPage {
  /** Answers the request and returns true, or returns false untouched. */
  handle(req: NodeRequest, res: NodeResponse): boolean;
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

export function createHttpHandler(regs: readonly ServiceRegistration[], opts: HttpServerOptions): Handler {
  const connect = createConnectAdapter(regs, {
    readMaxBytes: opts.maxReceiveMessageBytes,
    unwrapped: opts.reflection ? reflectionServices(regs.map((r) => r.service)) : [],
  });
  const cors = createCors(opts.cors ?? { origins: [] });
  const fast = opts.connectFastPath === false ? () => false : createConnectUnaryHandler(regs, { readMaxBytes: opts.maxReceiveMessageBytes });
  const probe = (res: http.ServerResponse | http2.Http2ServerResponse, ok: boolean, more?: Record<string, unknown>) => {
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: ok ? "ok" : "unavailable", ...more }));
  };
  return (req, res) => {
    if (cors(req, res)) return; // a preflight, answered
    if (req.url === "/healthz") return probe(res, true);
    if (req.url === "/readyz") return probe(res, opts.ready(), opts.readiness?.());
    if (req.url === "/metrics" && opts.metrics) return void scrape(opts.metrics, req, res);
    if (opts.events && req.url?.startsWith("/events") && opts.events.handle(req, res)) return;
    if (opts.pages) for (const page of opts.pages) if (page.handle(req, res)) return;
    if (!fast(req, res)) connect(req, res);
  };
}

async function scrape(m: NonNullable<HttpServerOptions["metrics"]>, req: NodeRequest, res: NodeResponse) {
  const header = req.headers.authorization;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
    return res.end("405 method not allowed\n");
  }
  if (!(await m.allowed(header === undefined ? null : String(header)))) {
    res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"', "content-type": "text/plain" });
    return res.end("401 /metrics needs an admin or service bearer token (or METRICS_PUBLIC=true)\n");
  }
  m.serve(req, res);
}

export interface HttpServer {
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections (the listener closes); open ones are served on. */
  stopAccepting(): Promise<void>;
  /**
   * Asks every connection to close once its calls are answered (HTTP/2
   * GOAWAY, HTTP/1 `Connection: close` and idle keep-alives closed); resolves
   * when all have closed.
   */
  drain(): Promise<void>;
  /** Destroys whatever connection is still open. */
  destroy(): void;
  /** stopAccepting + drain, destroying what is left after `graceMs` (default 2000). */
  close(graceMs?: number): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

export interface HttpServerLimits {
  /** Largest request header block accepted (HTTP/1 header bytes, HTTP/2 header list size). */
  readonly maxHeaderBytes?: number;
  /** Time from the connection (or the end of the last request) to a complete HTTP/1 header block; also the time to the first byte. */
  readonly headersTimeoutMs?: number;
  /** Time for a whole HTTP/1 request, body included. */
  readonly requestTimeoutMs?: number;
  /** An HTTP/2 connection with no stream open, or an HTTP/1 keep-alive with no request, is closed after this. */
  readonly idleTimeoutMs?: number;
  /** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams?: number;
  /** The process's cap on open connections, shared with the gRPC port. */
  readonly limiter?: ConnectionLimiter;
}

/** Defaults for servers built without a config (tests, bench): the same values config.ts defaults to. */
export const HTTP_LIMIT_DEFAULTS: Limits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConcurrentStreams: 100,
};

interface Limits {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConcurrentStreams: number;
}

export function createHttpServer(handler: Handler, limits: HttpServerLimits = {}): HttpServer {
  const l = { ...HTTP_LIMIT_DEFAULTS, ...definedOf(limits) };
  let draining = false;
  const h1 = createH1(handler, l, () => draining);
  const h2 = createH2(handler, l);
  const front = createConnectionFront(limits.limiter ?? createConnectionLimiter(Number.MAX_SAFE_INTEGER), (socket) =>
    sniff(socket, l.headersTimeoutMs, h1, h2.server),
  );
  let drainPoll: NodeJS.Timeout | undefined;
  const server: HttpServer = {
    listen: (host, port) => front.listen(host, port),
    stopAccepting: () => front.stopAccepting(),
    drain() {
      draining = true;
      h2.closeAll();
      // Keep-alive connections become idle as their responses finish: close each then.
      h1.closeIdleConnections();
      drainPoll ??= setInterval(() => h1.closeIdleConnections(), 20).unref();
      // A socket still being sniffed has no call: it goes now.
      for (const s of front.sockets) if (!sniffed.has(s)) s.destroy();
      return front.allClosed().finally(() => clearInterval(drainPoll));
    },
    destroy() {
      clearInterval(drainPoll);
      front.destroyAll();
      h1.close(); // stops Node's header/request timeout checker
    },
    async close(graceMs = 2000) {
      await front.stopAccepting();
      const timer = setTimeout(() => server.destroy(), graceMs).unref();
      await server.drain();
      clearTimeout(timer);
      server.destroy();
    },
  };
  return server;
}

function definedOf<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Sockets handed to a protocol server (the sniffing step is over). */
const sniffed = new WeakSet<net.Socket>();

/**
 * Reads the first bytes to tell h2c (the connection preface) from HTTP/1. A
 * socket that sends nothing within `timeoutMs` is closed.
 */
function sniff(socket: net.Socket, timeoutMs: number, h1: http.Server, h2: http2.Http2Server) {
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.once("data", (chunk) => {
    socket.setTimeout(0);
    sniffed.add(socket);
    socket.pause();
    socket.unshift(chunk);
    const isH2 = chunk.subarray(0, H2_PREFACE.length).equals(H2_PREFACE.subarray(0, Math.min(chunk.length, H2_PREFACE.length)));
    // h2 takes the native handle (and the unshifted bytes) itself; the
    // HTTP/1 parser reads through the stream, which must flow again.
    if (isH2) h2.emit("connection", socket);
    else {
      h1.emit("connection", socket);
      socket.resume();
    }
  });
}

function createH1(handler: Handler, l: Limits, draining: () => boolean): http.Server {
  const h1 = http.createServer(
    {
      maxHeaderSize: l.maxHeaderBytes,
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.idleTimeoutMs,
      // How often Node checks the two timeouts: often enough to keep them within a quarter.
      connectionsCheckingInterval: Math.max(50, Math.min(l.headersTimeoutMs, l.requestTimeoutMs || Infinity) / 4),
    },
    (req, res) => {
      if (draining()) res.shouldKeepAlive = false;
      handler(req, res);
    },
  );
  // Sockets are handed to this server, which never listens itself; 'listening'
  // is what starts Node's connection list that enforces headersTimeout and
  // requestTimeout and that closeIdleConnections walks.
  h1.emit("listening");
  return h1;
}

function createH2(handler: Handler, l: Limits) {
  const server = http2.createServer(
    {
      settings: { maxHeaderListSize: l.maxHeaderBytes, maxConcurrentStreams: l.maxConcurrentStreams },
      // Node's default, said out loud: a header list of more pairs is refused with ENHANCE_YOUR_CALM.
      maxHeaderListPairs: 128,
    },
    handler as never,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    closeWhenIdle(session, l.idleTimeoutMs);
  });
  return {
    server,
    closeAll() {
      for (const s of sessions) closeGracefully(s);
    },
  };
}

/** GOAWAY, then the open streams finish; a peer that never lets it close is cut after a second. */
function closeGracefully(session: http2.ServerHttp2Session) {
  if (session.closed || session.destroyed) return;
  session.close();
  setTimeout(() => session.destroy(), 1000).unref();
}

/** Closes a session once it has had no open stream for `idleMs`. */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number) {
  let open = 0;
  let timer: NodeJS.Timeout | undefined = setTimeout(() => closeGracefully(session), idleMs).unref();
  session.on("stream", (stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      if (--open === 0 && !session.closed) timer = setTimeout(() => closeGracefully(session), idleMs).unref();
    });
  });
  session.once("close", () => clearTimeout(timer));
}
