/**
 * Shutdown drains every port. Built with the app builder (close() is what
 * main.ts runs on SIGTERM) with CreateCustomer held at a gate so calls are in
 * flight on gRPC, Connect JSON over HTTP/1.1, Connect over h2c and gRPC-Web:
 * within SHUTDOWN_GRACE_MS each is answered OK and its customer is in the
 * database; new connections are refused once the listeners stop; a server
 * stream ends UNAVAILABLE / SHUTTING_DOWN with a RetryInfo. Past the grace
 * period the calls still held are cancelled (their signal fires) and nothing
 * of them is written. Then the real process: SIGTERM, exit 0.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { customers } from "../../src/customers/infra/schema.js";
import type { CallContext } from "../../src/kernel/call-context.js";
import { asPermitted } from "../support/auth.js";
import { reasonOf } from "../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../support/servers.js";

/** CreateCustomer waits here (or for its signal) before doing anything. */
function createGate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  let entered = 0;
  const hold = (service: DescService, impl: object): object => {
    if (service.typeName !== CustomerService.typeName) return impl;
    const real = impl as { createCustomer: (req: unknown, cx: CallContext) => Promise<unknown> };
    return {
      ...real,
      async createCustomer(req: unknown, cx: CallContext) {
        entered++;
        await Promise.race([opened, new Promise((_, reject) => cx.signal.addEventListener("abort", () => reject(cx.signal.reason), { once: true }))]);
        return real.createCustomer(req, cx);
      },
    };
  };
  return { hold, open: () => open(), entered: () => entered };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const refused = (url: string) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(Number(new URL(url).port), "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(false)));
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });

function transports(stack: TestStack): Record<string, Transport> {
  return {
    grpc: createGrpcTransport({ baseUrl: stack.grpcUrl }),
    "connect http/1.1": createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1" }),
    "connect h2c": createConnectTransport({ baseUrl: stack.httpUrl, httpVersion: "2" }),
    "grpc-web": createGrpcWebTransport({ baseUrl: stack.httpUrl, httpVersion: "1.1" }),
  };
}

async function stored(stack: TestStack, email: string): Promise<boolean> {
  const rows = await stack.database.db.select().from(customers).where(eq(customers.email, email));
  return rows.length === 1;
}

const tag = () => Math.random().toString(36).slice(2, 10);

describe("drain", () => {
  it("answers every in-flight call within the grace period, refuses new connections, ends streams SHUTTING_DOWN", async () => {
    const gate = createGate();
    const stack = await startTestStack({ transformImpl: gate.hold, config: { shutdownGraceMs: 20_000 } });
    const ts = transports(stack);
    const health = createClient(Health, ts.grpc);
    const seen: HealthCheckResponse_ServingStatus[] = [];
    const stream = (async () => {
      for await (const r of health.watch({ service: "" })) seen.push(r.status);
    })().then(() => undefined, (e: unknown) => ConnectError.from(e));
    await until(() => seen.length > 0);

    const emails = Object.keys(ts).map((w) => `${w.replace(/\W/g, "-")}-${tag()}@example.com`);
    const calls = Object.values(ts).map((t, i) =>
      createClient(CustomerService, asPermitted(t))
        .createCustomer({ email: emails[i], displayName: "Drain" })
        .then(() => "OK", (e: unknown) => ConnectError.from(e).code),
    );
    await until(() => gate.entered() === calls.length);

    const closing = stack.app.close();
    await until(async () => (await refused(stack.grpcUrl)) && (await refused(stack.httpUrl)));
    const ended = await stream;
    gate.open();
    expect(await Promise.all(calls)).toEqual(["OK", "OK", "OK", "OK"]);
    await closing;

    for (const email of emails) expect(await stored(stack, email)).toBe(true);
    expect(seen).toEqual([HealthCheckResponse_ServingStatus.SERVING, HealthCheckResponse_ServingStatus.NOT_SERVING]);
    expect(ended?.code).toBe(Code.Unavailable);
    expect(reasonOf(ended!)).toBe("SHUTTING_DOWN");
    expect(ended!.findDetails(RetryInfoSchema)).toHaveLength(1);
    await stack.database.dispose();
  }, 60_000);

  it("cancels what is still running after the grace period, and none of it is written", async () => {
    const gate = createGate();
    const stack = await startTestStack({ transformImpl: gate.hold, config: { shutdownGraceMs: 300 } });
    const ts = transports(stack);
    const emails = Object.keys(ts).map((w) => `${w.replace(/\W/g, "-")}-${tag()}@example.com`);
    const calls = Object.values(ts).map((t, i) =>
      createClient(CustomerService, asPermitted(t))
        .createCustomer({ email: emails[i], displayName: "Late" })
        .then(() => "OK", (e: unknown) => ConnectError.from(e).code),
    );
    await until(() => gate.entered() === calls.length);
    await stack.app.close();
    gate.open(); // too late: every call has been cancelled
    const outcomes = await Promise.all(calls);
    expect(outcomes.every((o) => o !== "OK")).toBe(true);
    for (const email of emails) expect(await stored(stack, email)).toBe(false);
    await stack.database.dispose();
  }, 60_000);
});

describe("the process", () => {
  it("on SIGTERM ends streams UNAVAILABLE with a RetryInfo and exits 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "order-drain-"));
    const { DATABASE_URL: _db, NODE_OPTIONS: _no, ...env } = process.env;
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...env, GRPC_PORT: "0", HTTP_PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, SEED_DEMO_DATA: "false", LOG_LEVEL: "warn", SHUTDOWN_GRACE_MS: "2000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      await until(() => /gRPC:\s+127\.0\.0\.1:(\d+)/.test(out), 60_000);
      const port = Number(/gRPC:\s+127\.0\.0\.1:(\d+)/.exec(out)![1]);
      const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
      const seen: HealthCheckResponse_ServingStatus[] = [];
      const stream = (async () => {
        for await (const r of health.watch({ service: "" })) seen.push(r.status);
      })().then(() => undefined, (e: unknown) => ConnectError.from(e));
      await until(() => seen.length > 0);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const ended = await stream;
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      expect(ended?.code).toBe(Code.Unavailable);
      expect(reasonOf(ended!)).toBe("SHUTTING_DOWN");
      expect(ended!.findDetails(RetryInfoSchema)).toHaveLength(1);
    } finally {
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
