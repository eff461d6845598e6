/**
 * The Connect port: Connect (JSON and binary), gRPC-Web and gRPC over one
 * listener that speaks HTTP/1.1 and cleartext HTTP/2 (h2c, sniffed from the
 * connection preface), plus /healthz (alive) and /readyz (database reachable).
 * Plain unary Connect calls take the fast path of connect-unary.ts; the rest
 * goes to connect-node.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createConnectUnaryHandler } from "./connect-unary.js";
import type { ServiceRegistration } from "./handlers.js";

export interface HttpServerOptions {
  readonly maxReceiveMessageBytes: number;
  /** True when the server can take traffic (the database answers). */
  readonly ready: () => boolean;
  /**
   * Serve plain unary Connect calls (POST, uncompressed JSON or proto) on
   * the fast path of connect-unary.ts rather than through connect-node
   * (default true; false is for comparing the two).
   */
  readonly connectFastPath?: boolean;
}

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

export function createHttpHandler(regs: readonly ServiceRegistration[], opts: HttpServerOptions): Handler {
  const connect = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      for (const r of regs) router.service(r.service, r.impl as never);
    },
    readMaxBytes: opts.maxReceiveMessageBytes,
  });
  const fast = opts.connectFastPath === false ? () => false : createConnectUnaryHandler(regs, { readMaxBytes: opts.maxReceiveMessageBytes });
  const probe = (res: http.ServerResponse | http2.Http2ServerResponse, ok: boolean) => {
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: ok ? "ok" : "unavailable" }));
  };
  return (req, res) => {
    if (req.url === "/healthz") return probe(res, true);
    if (req.url === "/readyz") return probe(res, opts.ready());
    if (!fast(req, res)) connect(req as never, res as never);
  };
}

export interface HttpServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

export function createHttpServer(handler: Handler): HttpServer {
  const h1 = http.createServer(handler as never);
  const h2 = http2.createServer({}, handler as never);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (chunk) => {
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
  });
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        front.once("error", reject);
        front.listen(port, host, () => resolve((front.address() as net.AddressInfo).port));
      }),
    close: () =>
      new Promise((resolve) => {
        front.close(() => resolve());
        h1.closeIdleConnections();
        for (const s of sockets) s.end();
        setTimeout(() => sockets.forEach((s) => s.destroy()), 2000).unref();
      }),
  };
}
