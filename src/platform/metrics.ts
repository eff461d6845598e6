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
 * for the same calls). Other hand-kept histograms (histogram.ts: the pool
 * gate's waits, statement durations) are handed over the same way
 * (`addHistogram`). Other metrics use the SDK's meter (`meter`).
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
import { DURATION_BUCKETS, Histogram } from "./histogram.js";

/** Bucket bounds of rpc.server.call.duration, in seconds (1 ms … 10 s). */
export { DURATION_BUCKETS };

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

/** A histogram metric kept by hand (histogram.ts), its series read at each scrape. */
export interface HistogramSource {
  /** OpenTelemetry name; the exporter prints it with dots as underscores and no unit suffix. */
  readonly name: string;
  readonly description: string;
  readonly unit?: string;
  /** The series as they stand: their attributes and histogram (both kept by the caller, cumulative). */
  read(): Iterable<readonly [Attributes, Histogram]>;
}

export interface Metrics {
  readonly meter: Meter;
  forMethod(method: DescMethod): MethodMetrics;
  /** Prints `source` at every scrape from now on. */
  addHistogram(source: HistogramSource): void;
  /** Answers a scrape (Prometheus text format). */
  serve(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void;
  shutdown(): Promise<void>;
}

/** One series of rpc.server.call.duration and grpc_server_handled_total: a method, transport and code. */
interface Series {
  readonly rpcAttributes: Attributes;
  readonly grpcAttributes: Attributes;
  /** Its calls' durations in seconds (DURATION_BUCKETS); its count is grpc_server_handled_total's. */
  readonly duration: Histogram;
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
    duration: new Histogram(DURATION_BUCKETS),
  };
}

const DURATION_DESCRIPTION = "Time from a call's arrival in wrapService to its answer (a stream: to its end), by service, method, code and transport.";
const STARTED_DESCRIPTION = "RPCs started on the server.";
const HANDLED_DESCRIPTION = "RPCs completed on the server, whatever their status.";

function* seriesOf(methods: readonly MethodState[]): Generator<Series> {
  for (const m of methods) for (const byCode of m.handled.values()) for (const s of byCode) if (s) yield s;
}

const descriptor = (name: string, description: string, unit = "") => ({ name, description, unit, valueType: ValueType.DOUBLE });
const cumulative = AggregationTemporality.CUMULATIVE;

/** A hand-kept histogram's series as OpenTelemetry metric data; undefined while it has none. */
function histogramData(source: HistogramSource, since: HrTime, now: HrTime): MetricData | undefined {
  const points: DataPoint<HistogramValue>[] = [];
  for (const [attributes, h] of source.read()) {
    const value = { buckets: { boundaries: [...h.boundaries], counts: [...h.counts] }, count: h.count, sum: h.sum, min: h.min, max: h.max };
    points.push({ startTime: since, endTime: now, attributes, value });
  }
  if (points.length === 0) return undefined;
  const d = descriptor(source.name, source.description, source.unit);
  return { descriptor: d, aggregationTemporality: cumulative, dataPointType: DataPointType.HISTOGRAM, dataPoints: points };
}

/** The per-call series and the other hand-kept histograms as OpenTelemetry metric data (cumulative since `since`). */
function callMetrics(methods: readonly MethodState[], histograms: readonly HistogramSource[], since: HrTime, resource: Resource): CollectionResult {
  const now = millisToHrTime(Date.now());
  const started: DataPoint<number>[] = [];
  const handled: DataPoint<number>[] = [];
  for (const m of methods) {
    for (const s of m.started.values()) started.push({ startTime: since, endTime: now, attributes: s.attributes, value: s.n });
  }
  for (const s of seriesOf(methods)) handled.push({ startTime: since, endTime: now, attributes: s.grpcAttributes, value: s.duration.count });
  const metrics: MetricData[] = [];
  for (const source of histograms) {
    const data = histogramData(source, since, now);
    if (data) metrics.push(data);
  }
  for (const [points, d] of [
    [started, descriptor("grpc_server_started", STARTED_DESCRIPTION)],
    [handled, descriptor("grpc_server_handled", HANDLED_DESCRIPTION)],
  ] as const) {
    if (points.length > 0) metrics.push({ descriptor: d, aggregationTemporality: cumulative, dataPointType: DataPointType.SUM, dataPoints: points, isMonotonic: true });
  }
  return { resourceMetrics: { resource, scopeMetrics: [{ scope: { name: "order-service" }, metrics }] }, errors: [] };
}

export interface MetricsOptions {
  readonly serviceName?: string;
  /**
   * This process is worker N of WORKERS > 1 (main.ts): every series carries
   * `worker="N"`, so the series of the workers a scrape lands on never merge
   * (README "Every core": a scrape reads the worker its connection went to).
   */
  readonly worker?: number;
}

export function createMetrics(o: MetricsOptions = {}): Metrics {
  const resource = resourceFromAttributes({ "service.name": o.serviceName ?? "order-service", ...(o.worker !== undefined ? { worker: String(o.worker) } : {}) });
  const methods: MethodState[] = [];
  const byMethod = new Map<DescMethod, MethodMetrics>();
  const since = millisToHrTime(Date.now());
  const histograms: HistogramSource[] = [
    {
      name: "rpc.server.call.duration",
      description: DURATION_DESCRIPTION,
      unit: "s",
      read: function* () {
        for (const s of seriesOf(methods)) yield [s.rpcAttributes, s.duration] as const;
      },
    },
  ];
  const producer: MetricProducer = { collect: async () => callMetrics(methods, histograms, since, resource) };
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    metricProducers: [producer],
    ...(o.worker !== undefined ? { withResourceConstantLabels: /^worker$/ } : {}),
  });
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
          (byCode[code] ??= newSeries(m, transport, code)).duration.record(seconds);
        },
      };
      byMethod.set(method, recorder);
      return recorder;
    },
    addHistogram(source) {
      histograms.push(source);
    },
    serve(req, res) {
      exporter.getMetricsRequestHandler(req as http.IncomingMessage, res as http.ServerResponse);
    },
    shutdown: () => provider.shutdown(),
  };
}
