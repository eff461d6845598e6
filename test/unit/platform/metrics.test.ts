/**
 * metrics.ts keeps its per-call series itself (the SDK's instruments cost
 * 12 µs per call): the same calls recorded through it and through the
 * OpenTelemetry SDK's own histogram and counters must print the same
 * Prometheus text — names, types, labels, bucket counts (values on a bound
 * included), sums. So must the other hand-kept histograms (histogram.ts,
 * `addHistogram`: the database's).
 */
import http from "node:http";
import { Code } from "@connectrpc/connect";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationType, MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { DB_DURATION_BUCKETS, Histogram, HistogramsByName, POOL_WAIT_BUCKETS } from "../../../src/platform/histogram.js";
import { codeName, createMetrics, DURATION_BUCKETS } from "../../../src/platform/metrics.js";

const servers: http.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function scrape(serve: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer(serve);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The sample lines, sorted (the two may order series differently), without target_info. */
const samples = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("target_info") && !l.includes("target_info"))
    .sort();

const CALLS: [method: typeof OrderService.method.getOrder | typeof InventoryService.method.reserveStock, transport: string, code: number, seconds: number][] = [
  [OrderService.method.getOrder, "grpc", 0, 0.0004],
  [OrderService.method.getOrder, "grpc", 0, 0.001], // on a bound: in that bucket
  [OrderService.method.getOrder, "grpc", 0, 0.0049],
  [OrderService.method.getOrder, "connect", 0, 0.02],
  [OrderService.method.getOrder, "connect", Code.NotFound, 0.003],
  [OrderService.method.getOrder, "grpc-web", Code.Unavailable, 10],
  [InventoryService.method.reserveStock, "in-process", 0, 12.5], // past the last bound: +Inf only
  [InventoryService.method.reserveStock, "in-process", Code.FailedPrecondition, 0.25],
];

describe("the per-call series", () => {
  it("print as the SDK's own histogram and counters print the same calls", async () => {
    const ours = createMetrics();
    for (const [method, transport, code, seconds] of CALLS) {
      const m = ours.forMethod(method);
      m.started(transport);
      m.handled(transport, code, seconds);
    }

    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ "service.name": "order-service" }),
      readers: [exporter],
      views: [
        {
          instrumentName: "rpc.server.call.duration",
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...DURATION_BUCKETS] } },
        },
      ],
    });
    const meter = provider.getMeter("order-service");
    const duration = meter.createHistogram("rpc.server.call.duration", {
      unit: "s",
      description: "Time from a call's arrival in wrapService to its answer (a stream: to its end), by service, method, code and transport.",
    });
    const started = meter.createCounter("grpc_server_started", { description: "RPCs started on the server." });
    const handled = meter.createCounter("grpc_server_handled", { description: "RPCs completed on the server, whatever their status." });
    for (const [method, transport, code, seconds] of CALLS) {
      const grpc = { grpc_service: method.parent.typeName, grpc_method: method.name, grpc_type: "unary" };
      started.add(1, { ...grpc, transport });
      handled.add(1, { ...grpc, grpc_code: codeName(code), transport });
      duration.record(seconds, { "rpc.service": method.parent.typeName, "rpc.method": method.name, "rpc.code": codeName(code), "rpc.transport": transport });
    }

    const mine = samples(await scrape((req, res) => ours.serve(req, res)));
    const sdk = samples(await scrape((req, res) => exporter.getMetricsRequestHandler(req, res)));
    expect(mine.length).toBeGreaterThan(30);
    expect(mine).toEqual(sdk);
    await Promise.all([ours.shutdown(), provider.shutdown()]);
  });

  it("prints nothing for methods never called", async () => {
    const ours = createMetrics();
    ours.forMethod(OrderService.method.getOrder);
    const text = await scrape((req, res) => ours.serve(req, res));
    expect(text).not.toContain("grpc_server_handled_total{");
    await ours.shutdown();
  });
});

describe("hand-kept histograms", () => {
  const WAITS = [0, 0, 0, 0.0001 /* on a bound */, 0.0003, 0.02, 12 /* past the last bound */];
  const STATEMENTS: [name: string, seconds: number][] = [
    ["orders_insert_order", 0.00008],
    ["orders_insert_order", 0.0004],
    ["orders_insert_order", 0.0025],
    ["orders_update_tx", 0.003],
    ["orders_update_tx", 11],
  ];

  it("print as the SDK's own histograms print the same values", async () => {
    const ours = createMetrics();
    const waits = new Histogram(POOL_WAIT_BUCKETS);
    const durations = new HistogramsByName(DB_DURATION_BUCKETS);
    WAITS.forEach((w) => waits.record(w));
    for (const [name, seconds] of STATEMENTS) durations.get(name).record(seconds);
    ours.addHistogram({ name: "db_pool_wait_seconds", description: "Waits.", unit: "s", read: () => [[{}, waits]] });
    ours.addHistogram({
      name: "db_statement_duration_seconds",
      description: "Durations.",
      unit: "s",
      read: () => [...durations.entries()].map(([statement, h]) => [{ statement }, h] as const),
    });

    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    const histogram = (name: string, boundaries: readonly number[]) => ({
      instrumentName: name,
      aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM as const, options: { boundaries: [...boundaries] } },
    });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ "service.name": "order-service" }),
      readers: [exporter],
      views: [histogram("db_pool_wait_seconds", POOL_WAIT_BUCKETS), histogram("db_statement_duration_seconds", DB_DURATION_BUCKETS)],
    });
    const meter = provider.getMeter("order-service");
    const sdkWaits = meter.createHistogram("db_pool_wait_seconds", { unit: "s", description: "Waits." });
    const sdkDurations = meter.createHistogram("db_statement_duration_seconds", { unit: "s", description: "Durations." });
    WAITS.forEach((w) => sdkWaits.record(w));
    for (const [statement, seconds] of STATEMENTS) sdkDurations.record(seconds, { statement });

    const mine = samples(await scrape((req, res) => ours.serve(req, res)));
    const sdk = samples(await scrape((req, res) => exporter.getMetricsRequestHandler(req, res)));
    expect(mine).toContain('db_pool_wait_seconds_bucket{le="0"} 3');
    expect(mine).toContain('db_statement_duration_seconds_count{statement="orders_update_tx"} 2');
    expect(mine).toEqual(sdk);
    await Promise.all([ours.shutdown(), provider.shutdown()]);
  });
});
