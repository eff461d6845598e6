/**
 * The listening sockets of both ports. Each port is a plain net.Server that
 * accepts a TCP connection, counts it against one cap per process
 * (MAX_CONNECTIONS) and hands it to the protocol servers: the Connect port's
 * sniffer (http-server.ts) or grpc-js's connection injector (grpc-server.ts).
 * Owning the accept step is what lets shutdown stop accepting while the
 * protocol servers drain, and lets a flood of idle sockets be refused before
 * any parser or HTTP/2 session is built for them.
 */
import net from "node:net";
import type { Logger } from "pino";

/** How often at most the cap's refusals are logged (with the count since the last line). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export interface ConnectionLimiter {
  /** Takes a slot for a new connection; false when the process is at its cap. */
  tryAcquire(): boolean;
  release(): void;
  readonly open: number;
  /** Connections refused since start. */
  readonly refused: number;
}

export function createConnectionLimiter(max: number, logger?: Logger): ConnectionLimiter {
  let open = 0;
  let refused = 0;
  let loggedAt = -Infinity;
  let unlogged = 0;
  return {
    tryAcquire() {
      if (open < max) {
        open++;
        return true;
      }
      refused++;
      unlogged++;
      const now = Date.now();
      if (now - loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
        logger?.warn({ max, refused: unlogged }, "connection cap reached (MAX_CONNECTIONS): new connections are closed at once");
        loggedAt = now;
        unlogged = 0;
      }
      return false;
    },
    release() {
      open--;
    },
    get open() {
      return open;
    },
    get refused() {
      return refused;
    },
  };
}

export interface ConnectionFront {
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting: new connections are refused by the OS; open ones stay. */
  stopAccepting(): Promise<void>;
  /** The connections open on this port now. */
  readonly sockets: ReadonlySet<net.Socket>;
  /** Resolves once every connection of this port has closed. */
  allClosed(): Promise<void>;
  /** Destroys every connection still open. */
  destroyAll(): void;
}

export function createConnectionFront(limiter: ConnectionLimiter, onSocket: (socket: net.Socket) => void): ConnectionFront {
  const sockets = new Set<net.Socket>();
  let whenEmpty: (() => void)[] = [];
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (!limiter.tryAcquire()) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      limiter.release();
      if (sockets.size === 0) {
        const waiting = whenEmpty;
        whenEmpty = [];
        waiting.forEach((w) => w());
      }
    });
    // A reset from a peer that is gone must not become an uncaught error; the servers see the close.
    socket.on("error", () => {});
    onSocket(socket);
  });
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      }),
    stopAccepting: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        // close() calls back once every connection is gone; stopping to accept is immediate.
        server.close();
        resolve();
      }),
    sockets,
    allClosed: () => (sockets.size === 0 ? Promise.resolve() : new Promise((resolve) => whenEmpty.push(resolve))),
    destroyAll() {
      for (const s of sockets) s.destroy();
    },
  };
}
