/**
 * Traces of our RPCs, on OpenTelemetry's API (the SDK is started by
 * instrumentation.ts when an exporter is configured; config.ts `tracing`).
 *
 * - `traceCalls` is used by wrapService (handlers.ts): one SERVER span per
 *   call, whichever of the four paths it came by. Its parent is the span
 *   already active (a nested in-process call, or HTTP/1's own span) or else
 *   the caller's W3C `traceparent` header. The implementation runs with the
 *   span active, so what it calls and logs (logger.ts adds `trace_id` and
 *   `span_id` to every line) belongs to the trace.
 * - `tracingInterceptor` is on the transports to services deployed apart
 *   (app.ts): one CLIENT span per call, whose context it sends on in the
 *   request's headers. Co-hosted calls need none: the in-process transport
 *   runs the callee's wrapper inside the caller's span.
 *
 * Span names and attributes follow OpenTelemetry's RPC conventions:
 * `<package.Service>/<Method>`, `rpc.system`, `rpc.service`, `rpc.method`,
 * `rpc.grpc.status_code`; the status is an error for the codes those
 * conventions count as the server's fault (UNKNOWN, DEADLINE_EXCEEDED,
 * UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS) on a SERVER span, for
 * any code but OK on a CLIENT span. With tracing off nothing here runs.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";

export const TRACER_NAME = "order-service";

export function createTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

const HEADER_GETTER: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
};
const HEADER_SETTER: TextMapSetter<Headers> = {
  set: (h, key, value) => h.set(key, value),
};

const SERVER_FAULTS = new Set<number>([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

function rpcAttributes(method: DescMethod): Attributes {
  return { "rpc.system": "grpc", "rpc.service": method.parent.typeName, "rpc.method": method.name };
}

function endSpan(span: Span, code: number, isFault: (code: number) => boolean): void {
  span.setAttribute("rpc.grpc.status_code", code);
  if (code !== 0 && isFault(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: Code[code] });
  span.end();
}

const codeOf = (err: unknown) => (err instanceof ConnectError ? err.code : Code.Unknown);
const serverFault = (code: number) => SERVER_FAULTS.has(code);
const anyFailure = () => true;

/** Where a call's span hangs: under the active span, or under the caller's `traceparent`. */
function parentOf(ctx: HandlerContext): Context {
  const active = context.active();
  return trace.getSpan(active) ? active : propagation.extract(active, ctx.requestHeader, HEADER_GETTER);
}

export interface CallTracing {
  /** A unary call: `run` inside the call's SERVER span; the span ends with the call's code. */
  unary<R>(ctx: HandlerContext, run: () => Promise<R>): Promise<R>;
  /** A server stream: the span lasts the stream's life; each message is produced inside it. */
  stream<R>(ctx: HandlerContext, run: () => AsyncIterable<R>): AsyncIterable<R>;
}

/** The SERVER spans of one method's calls (wrapService makes one per method). */
export function traceCalls(tracer: Tracer, method: DescMethod): CallTracing {
  const name = `${method.parent.typeName}/${method.name}`;
  const attributes = rpcAttributes(method);
  const start = (ctx: HandlerContext) => {
    const parent = parentOf(ctx);
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: { ...attributes, "rpc.transport": ctx.protocolName } }, parent);
    return { span, active: trace.setSpan(parent, span) };
  };
  return {
    async unary(ctx, run) {
      const { span, active } = start(ctx);
      try {
        const result = await context.with(active, run);
        endSpan(span, 0, serverFault);
        return result;
      } catch (err) {
        endSpan(span, codeOf(err), serverFault);
        throw err;
      }
    },
    async *stream(ctx, run) {
      const { span, active } = start(ctx);
      let code = 0;
      try {
        // A generator resumes in the context of whoever asks for its next value: ask inside the span.
        const it = context.with(active, run)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await context.with(active, () => it.next());
            if (next.done) return;
            yield next.value;
          }
        } finally {
          await it.return?.();
        }
      } catch (err) {
        code = codeOf(err);
        throw err;
      } finally {
        endSpan(span, code, serverFault);
      }
    },
  };
}

/** CLIENT spans for calls to a service deployed apart; the trace context travels in the request's headers. */
export function tracingInterceptor(tracer: Tracer): Interceptor {
  return (next) => async (req) => {
    const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.CLIENT, attributes: rpcAttributes(req.method) });
    propagation.inject(trace.setSpan(context.active(), span), req.header, HEADER_SETTER);
    try {
      const res = await next(req);
      endSpan(span, 0, anyFailure);
      return res;
    } catch (err) {
      endSpan(span, ConnectError.from(err).code, anyFailure);
      throw err;
    }
  };
}

/**
 * A span for one unit of database work — a prepared statement (statements.ts)
 * or a transaction (bounded.ts), named as their metrics are — under the call
 * running it; undefined (and nothing spent but one look-up) outside a
 * recorded call, which is always the case with tracing off. postgres-js has
 * no OpenTelemetry instrumentation of its own (porsager/postgres#461).
 */
export function startDbSpan(name: string): Span | undefined {
  if (!trace.getActiveSpan()?.isRecording()) return undefined;
  return dbTracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: { "db.system.name": "postgresql", "db.query.summary": name } });
}

/** Ends a span of startDbSpan; `failed` marks it an error. */
export function endDbSpan(span: Span, failed: boolean): void {
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

const dbTracer = trace.getTracer(TRACER_NAME);

/** The W3C `traceparent` of the active span (stored with an outbox event); undefined outside a recorded span. */
export function activeTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}

/** The active span's ids, for log lines (logger.ts); undefined outside any span. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
