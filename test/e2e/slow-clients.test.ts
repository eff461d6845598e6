/**
 * Slow and silent clients cannot hold connections: on both ports, sockets
 * that send nothing, only the HTTP/2 preface, or half an HTTP/1 header are
 * closed by the server once the (here short) timeouts pass, while ordinary
 * gRPC and Connect JSON calls keep being answered. And beyond MAX_CONNECTIONS
 * a new connection is closed at once.
 */
import net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { ConnectionsConfig } from "../../src/config.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HALF_HEADER = "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\ncontent-type: appl";
const PER_KIND = 100;

const SHORT: ConnectionsConfig = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 1000,
  idleTimeoutMs: 1000,
  maxConcurrentStreams: 100,
  maxConnections: 10_000,
};

interface Probe {
  readonly closed: Promise<void>;
  readonly isClosed: () => boolean;
  readonly socket: net.Socket;
}

/** A connection that sends `bytes` (maybe none) and then nothing; it never closes itself. */
function probe(port: number, bytes: string): Probe {
  const socket = net.connect(port, "127.0.0.1");
  let closed = false;
  socket.on("error", () => {}); // a reset by the server is a close too
  socket.on("data", () => {}); // a GOAWAY or a 408 may come first
  if (bytes) socket.once("connect", () => socket.write(bytes));
  return {
    socket,
    closed: new Promise((resolve) => socket.once("close", () => resolve(void (closed = true)))),
    isClosed: () => closed,
  };
}

const portOf = (url: string) => Number(new URL(url).port);

async function until(cond: () => boolean, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("slow clients", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ config: { connections: SHORT } });
  });
  afterAll(() => stack?.close());

  it("are closed by the server on every port while normal calls keep succeeding", async () => {
    const grpc = createClient(Health, createGrpcTransport({ baseUrl: stack.grpcUrl }));
    let ok = 0;
    const failures: unknown[] = [];
    let calling = true;
    // One loop per port, each keeping its connection busy: a connection idle past idleTimeoutMs is closed
    // (that is the point), and a client that sends a call just as the GOAWAY comes gets REFUSED_STREAM.
    const loop = async (call: () => Promise<boolean>) => {
      while (calling) {
        try {
          if (await call()) ok++;
        } catch (e) {
          failures.push(e);
        }
      }
    };
    const calls = Promise.all([
      loop(async () => {
        const a = await grpc.check({ service: "" });
        if (a.status === HealthCheckResponse_ServingStatus.SERVING) return true;
        failures.push({ grpc: a.status });
        return false;
      }),
      loop(async () => {
        const res = await fetch(`${stack.httpUrl}/grpc.health.v1.Health/Check`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        const b = (await res.json()) as { status?: string };
        if (res.status === 200 && b.status === "SERVING") return true;
        failures.push({ status: res.status, b });
        return false;
      }),
    ]);

    const probes: Probe[] = [];
    for (const url of [stack.grpcUrl, stack.httpUrl]) {
      for (const bytes of ["", PREFACE, HALF_HEADER]) {
        for (let i = 0; i < PER_KIND; i++) probes.push(probe(portOf(url), bytes));
      }
    }
    await until(() => probes.every((p) => p.isClosed()));
    const okWhileProbed = ok;
    calling = false;
    await calls;
    expect(failures).toEqual([]);
    expect(okWhileProbed).toBeGreaterThan(0);
  }, 60_000);
});

describe("the connection cap", () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Timeouts out of reach: only the cap can close a connection here.
    stack = await startTestStack({
      config: { connections: { ...SHORT, headersTimeoutMs: 120_000, requestTimeoutMs: 120_000, idleTimeoutMs: 120_000, maxConnections: 4 } },
    });
  });
  afterAll(() => stack?.close());

  it("closes new connections at once beyond MAX_CONNECTIONS, on both ports, and accepts again below it", async () => {
    const held = [probe(portOf(stack.grpcUrl), ""), probe(portOf(stack.grpcUrl), ""), probe(portOf(stack.httpUrl), ""), probe(portOf(stack.httpUrl), "")];
    await Promise.all(held.map((p) => new Promise((r) => p.socket.once("connect", r))));
    // Accepted and held: give the server time to see them all before the over-cap ones.
    await until(() => held.every((p) => p.socket.readyState === "open"));
    const over = [probe(portOf(stack.grpcUrl), ""), probe(portOf(stack.httpUrl), "")];
    await Promise.all(over.map((p) => p.closed));
    expect(held.some((p) => p.isClosed())).toBe(false);

    held.forEach((p) => p.socket.destroy());
    await Promise.all(held.map((p) => p.closed));
    // The slots are free again once the server has seen the closes.
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      const res = await fetch(`${stack.httpUrl}/healthz`).catch(() => undefined);
      answered = res?.status === 200;
      if (!answered) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answered).toBe(true);
  }, 60_000);
});
