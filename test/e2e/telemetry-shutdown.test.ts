/**
 * With an OTLP endpoint configured, the spans of the last calls before a
 * SIGTERM reach the collector: the process drains its servers, flushes
 * telemetry, then exits. Runs the service as `npm run dev` does, against a
 * tiny OTLP/HTTP sink, with the periodic span export pushed out of reach so
 * only the shutdown flush can deliver them.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { startServiceProcess } from "../support/service-process.js";

let sink: http.Server;
const received: { path: string; bytes: number }[] = [];
let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  sink = http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => {
      received.push({ path: req.url ?? "", bytes });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  sink.listen(0, "127.0.0.1");
  await once(sink, "listening");
  dataDir = mkdtempSync(join(tmpdir(), "order-otel-"));
});

afterAll(async () => {
  child?.kill("SIGKILL");
  sink?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it("flushes the last calls' spans to the collector on SIGTERM, then exits 0", async () => {
  const started = await startServiceProcess({
    otlpEndpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    dataDir,
    env: { OTEL_BSP_SCHEDULE_DELAY: "600000" },
  });
  child = started.child;

  const health = createClient(Health, createGrpcTransport({ baseUrl: started.grpcUrl }));
  const res = await health.check({ service: "" });
  expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  expect(received.filter((r) => r.path === "/v1/traces")).toHaveLength(0);

  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
  const traces = received.filter((r) => r.path === "/v1/traces");
  expect(traces.length).toBeGreaterThan(0);
  expect(traces.reduce((n, r) => n + r.bytes, 0)).toBeGreaterThan(0);
}, 90_000);
