/**
 * Metrics, on OpenTelemetry's SDK, read by Prometheus: one MeterProvider per
 * app with `@opentelemetry/exporter-prometheus` as its reader, its server not
 * started — `/metrics` on the HTTP port (http-server.ts) asks it for the
 * text format. No second metrics stack: the same instruments could be given
 * an OTLP reader.
 *
 * Per call (wrapService, handlers.ts — so every way in counts: grpc-js,
 * connect-node, the Connect fast path and the in-process transport):
 *
 * - `rpc.server.call.duration` (seconds; histogram), by `rpc.service`,
 *   `rpc.method`, `rpc.code` (the gRPC code name, "OK" on success) and
 *   `rpc.transport` (`grpc`, `connect`, `grpc-web`, `in-process`);
 * - `grpc_server_started_total` and `grpc_server_handled_total`, the
 *   counters dashboards made for go-grpc-prometheus expect (labels
 *   `grpc_service`, `grpc_method`, `grpc_type`, and `grpc_code` on handled).
 *
 * The per-call series are not SDK instruments: recording through the SDK
 * (its attribute hashing, three instruments) measured 12 µs per call, this
 * module's own counters ~0.3 µs (BENCHMARKS.md "Metrics"). They are kept
 * here, cumulative, and handed to the same reader as OpenTelemetry metric
 * data by a MetricProducer at scrape time, so the exporter prints them as it
 * prints the SDK's (`test/unit/platform/metrics.test.ts` compares the two
 * for the same calls). Other metrics use the SDK's meter (`meter`).
 */
import { Code } from "@connectrpc/connect";
import { ValueType, type Attributes, type HrTime, type Meter } from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type CollectionResult,
  type DataPoint,
  type Histogram as HistogramValue,
  type MetricData,
  type MetricProducer,
} from "@opentelemetry/sdk-metrics";
import type { DescMethod } from "@bufbuild/protobuf";
import type http from "node:http";
import type http2 from "node:http2";

/** Bucket bounds of rpc.server.call.duration, in seconds (1 ms … 10 s). */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** gRPC code names as Prometheus dashboards show them (grpc-go's `codes.Code.String()`). */
const CODE_NAMES: Readonly<Record<number, string>> = {
  0: "OK",
  [Code.Canceled]: "Canceled",
  [Code.Unknown]: "Unknown",
  [Code.InvalidArgument]: "InvalidArgument",
  [Code.DeadlineExceeded]: "DeadlineExceeded",
  [Code.NotFound]: "NotFound",
  [Code.AlreadyExists]: "AlreadyExists",
  [Code.PermissionDenied]: "PermissionDenied",
  [Code.ResourceExhausted]: "ResourceExhausted",
  [Code.FailedPrecondition]: "FailedPrecondition",
  [Code.Aborted]: "Aborted",
  [Code.OutOfRange]: "OutOfRange",
  [Code.Unimplemented]: "Unimplemented",
  [Code.Internal]: "Internal",
  [Code.Unavailable]: "Unavailable",
  [Code.DataLoss]: "DataLoss",
  [Code.Unauthenticated]: "Unauthenticated",
};

export const codeName = (code: number) => CODE_NAMES[code] ?? "Unknown";

/** What wrapService records for each method. */
export interface MethodMetrics {
  /** A call of this method arrived over `transport`. */
  started(transport: string): void;
  /** It ended with `code` (0: OK) after `seconds`. */
  handled(transport: string, code: number, seconds: number): void;
}

export interface Metrics {
  readonly meter: Meter;
  forMethod(method: DescMethod): MethodMetrics;
  /** Answers a scrape (Prometheus text format). */
  serve(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void;
  shutdown(): Promise<void>;
}

/** One series of rpc.server.call.duration and grpc_server_handled_total: a method, transport and code. */
interface Series {
  readonly rpcAttributes: Attributes;
  readonly grpcAttributes: Attributes;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Per bucket (DURATION_BUCKETS, then +Inf): calls whose duration is ≤ its bound and above the previous. */
  readonly counts: number[];
}

interface MethodState {
  readonly service: string;
  readonly method: string;
  readonly type: string;
  /** Calls started, by transport, with the counter's attributes. */
  readonly started: Map<string, { readonly attributes: Attributes; n: number }>;
  /** By transport, then by code (0–16). */
  readonly handled: Map<string, (Series | undefined)[]>;
}

function methodState(method: DescMethod): MethodState {
  const type = method.methodKind === "server_streaming" ? "server_stream" : method.methodKind === "unary" ? "unary" : method.methodKind;
  return { service: method.parent.typeName, method: method.name, type, started: new Map(), handled: new Map() };
}

function newSeries(m: MethodState, transport: string, code: number): Series {
  const name = codeName(code);
  return {
    rpcAttributes: { "rpc.service": m.service, "rpc.method": m.method, "rpc.code": name, "rpc.transport": transport },
    grpcAttributes: { grpc_service: m.service, grpc_method: m.method, grpc_type: m.type, grpc_code: name, transport },
    count: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    counts: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
  };
}

const DURATION_DESCRIPTION = "Time from a call's arrival in wrapService to its answer (a stream: to its end), by service, method, code and transport.";
const STARTED_DESCRIPTION = "RPCs started on the server.";
const HANDLED_DESCRIPTION = "RPCs completed on the server, whatever their status.";

/** The per-call series as OpenTelemetry metric data (cumulative since `since`). */
function callMetrics(methods: readonly MethodState[], since: HrTime, resource: Resource): CollectionResult {
  const now = millisToHrTime(Date.now());
  const duration: DataPoint<HistogramValue>[] = [];
  const started: DataPoint<number>[] = [];
  const handled: DataPoint<number>[] = [];
  for (const m of methods) {
    for (const s of m.started.values()) started.push({ startTime: since, endTime: now, attributes: s.attributes, value: s.n });
    for (const byCode of m.handled.values()) {
      for (const s of byCode) {
        if (!s) continue;
        duration.push({
          startTime: since,
          endTime: now,
          attributes: s.rpcAttributes,
          value: { buckets: { boundaries: DURATION_BUCKETS, counts: [...s.counts] }, count: s.count, sum: s.sum, min: s.min, max: s.max },
        });
        handled.push({ startTime: since, endTime: now, attributes: s.grpcAttributes, value: s.count });
      }
    }
  }
  const metrics: MetricData[] = [];
  const descriptor = (name: string, description: string, unit = "") => ({ name, description, unit, valueType: ValueType.DOUBLE });
  const cumulative = AggregationTemporality.CUMULATIVE;
  if (duration.length > 0) {
    const d = descriptor("rpc.server.call.duration", DURATION_DESCRIPTION, "s");
    metrics.push({ descriptor: d, aggregationTemporality: cumulative, dataPointType: DataPointType.HISTOGRAM, dataPoints: duration });
  }
  for (const [points, d] of [
    [started, descriptor("grpc_server_started", STARTED_DESCRIPTION)],
    [handled, descriptor("grpc_server_handled", HANDLED_DESCRIPTION)],
  ] as const) {
    if (points.length > 0) metrics.push({ descriptor: d, aggregationTemporality: cumulative, dataPointType: DataPointType.SUM, dataPoints: points, isMonotonic: true });
  }
  return { resourceMetrics: { resource, scopeMetrics: [{ scope: { name: "order-service" }, metrics }] }, errors: [] };
}

export function createMetrics(o: { serviceName?: string } = {}): Metrics {
  const resource = resourceFromAttributes({ "service.name": o.serviceName ?? "order-service" });
  const methods: MethodState[] = [];
  const byMethod = new Map<DescMethod, MethodMetrics>();
  const since = millisToHrTime(Date.now());
  const producer: MetricProducer = { collect: async () => callMetrics(methods, since, resource) };
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [producer] });
  const provider = new MeterProvider({ resource, readers: [exporter] });
  const meter = provider.getMeter("order-service");

  return {
    meter,
    forMethod(method) {
      // One state per method, however often asked: a series printed twice would be invalid.
      const known = byMethod.get(method);
      if (known) return known;
      const m = methodState(method);
      methods.push(m);
      const recorder: MethodMetrics = {
        started(transport) {
          let s = m.started.get(transport);
          if (!s) m.started.set(transport, (s = { attributes: { grpc_service: m.service, grpc_method: m.method, grpc_type: m.type, transport }, n: 0 }));
          s.n++;
        },
        handled(transport, code, seconds) {
          let byCode = m.handled.get(transport);
          if (!byCode) m.handled.set(transport, (byCode = []));
          const s = (byCode[code] ??= newSeries(m, transport, code));
          s.count++;
          s.sum += seconds;
          if (seconds < s.min) s.min = seconds;
          if (seconds > s.max) s.max = seconds;
          let i = 0;
          while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]) i++;
          s.counts[i]++;
        },
      };
      byMethod.set(method, recorder);
      return recorder;
    },
    serve(req, res) {
      exporter.getMetricsRequestHandler(req as http.IncomingMessage, res as http.ServerResponse);
    },
    shutdown: () => provider.shutdown(),
  };
}
