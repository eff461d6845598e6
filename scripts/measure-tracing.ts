/**
 * What tracing costs a call in process (BENCHMARKS.md "Tracing"): a unary
 * call wrapped by tracing.ts's `traceCalls` (a SERVER span, its context
 * active while the call runs, the caller's traceparent extracted) plus two
 * database spans inside it, with OpenTelemetry's SDK as instrumentation.ts
 * starts it (AsyncLocalStorage context, W3C propagator, a batch processor)
 * and an exporter that drops the spans; against the same call unwrapped.
 * Also the cost of a database span look-up with tracing off.
 *
 *   npx tsx scripts/measure-tracing.ts
 */
import { Code, type HandlerContext } from "@connectrpc/connect";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";
import { endDbSpan, startDbSpan, traceCalls } from "../src/platform/tracing.js";

const CALLS = 100_000;
const method = OrderService.method.getOrder;
const ctx = {
  protocolName: "grpc",
  requestHeader: new Headers({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }),
} as unknown as HandlerContext;

async function work(): Promise<number> {
  for (const name of ["orders_find", "orders_read"]) {
    const span = startDbSpan(name);
    await Promise.resolve();
    if (span) endDbSpan(span, false);
  }
  return Code.Unknown;
}

async function loop(call: () => Promise<unknown>): Promise<{ wallUs: number; cpuUs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await call();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallUs: (wall * 1000) / CALLS, cpuUs: (cpu.user + cpu.system) / CALLS };
}

// Tracing off: no SDK registered; the database spans only look for an active span.
for (let round = 1; round <= 2; round++) {
  const bare = await loop(work);
  console.log(`round ${round}, tracing off: a call with two database-span look-ups ${bare.wallUs.toFixed(3)} µs`);
}

let exported = 0;
const dropping: SpanExporter = {
  export: (spans: ReadableSpan[], done) => {
    exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping, { maxQueueSize: 65536, maxExportBatchSize: 4096, scheduledDelayMillis: 50 })] });
trace.setGlobalTracerProvider(provider);
const traced = traceCalls(trace.getTracer("measure"), method);

for (let round = 1; round <= 3; round++) {
  const bare = await loop(async () => {
    await Promise.resolve();
    return Code.Unknown;
  });
  const on = await loop(() => traced.unary(ctx, work));
  console.log(
    `round ${round}: bare call ${bare.wallUs.toFixed(3)} µs; traced (SERVER span + 2 database spans) ${on.wallUs.toFixed(3)} µs wall, ${on.cpuUs.toFixed(3)} µs CPU ` +
      `→ tracing ${(on.wallUs - bare.wallUs).toFixed(2)} µs per call`,
  );
}
await provider.forceFlush();
console.log(`spans exported: ${exported}`);
await provider.shutdown();
