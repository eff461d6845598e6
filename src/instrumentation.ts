/**
 * OpenTelemetry, loaded before anything else:
 *
 *   node --import ./dist/src/instrumentation.js dist/src/main.js         (npm start, Dockerfile)
 *   node --import tsx --import ./src/instrumentation.ts src/main.ts     (npm run dev)
 *
 * Off unless an exporter is configured: with neither OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) nor OTEL_TRACES_EXPORTER set, or with
 * OTEL_SDK_DISABLED=true, this file loads nothing and costs nothing. When on,
 * the NodeSDK reads the standard OTEL_* variables itself (protocol, headers,
 * service name, sampler, metrics/logs exporters), and auto-instrumentation
 * covers HTTP/1, ioredis, undici... (fs, dns and net are off: they are noisy
 * and cost a span per syscall-ish call). The RPCs' spans are ours
 * (src/platform/tracing.ts): one SERVER span per call in wrapService,
 * whichever way the call came in, and a CLIENT span per call to a service
 * deployed apart, which carries the trace context on.
 *
 * This file reads process.env directly: it runs before src/config.ts.
 */
import { register } from "node:module";
import { addExitHook } from "./platform/exit-hooks.js";
import { tracingWanted } from "./platform/telemetry-env.js";

const env = process.env;

/**
 * ESM code (ours is) is only instrumentable through import-in-the-middle's
 * loader hook. The message channel limits the hook to the modules the
 * instrumentations ask for, so everything else loads untouched.
 */
async function registerEsmHook(): Promise<() => Promise<void>> {
  try {
    const { createAddHookMessageChannel } = await import("import-in-the-middle");
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register("import-in-the-middle/hook.mjs", import.meta.url, registerOptions);
    return waitForAllMessagesAcknowledged;
  } catch (err) {
    process.stderr.write(`otel: ESM loader hook unavailable, only CommonJS modules are instrumented: ${String(err)}\n`);
    return async () => {};
  }
}

async function startTelemetry(): Promise<void> {
  const waitForHooks = await registerEsmHook();
  const [{ NodeSDK }, { getNodeAutoInstrumentations }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/auto-instrumentations-node"),
  ]);

  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) wins when set.
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: "order-service" }),
    // Exporters come from the environment (OTEL_TRACES_EXPORTER, default otlp;
    // OTEL_EXPORTER_OTLP_PROTOCOL, default http/protobuf), so none is built here.
    instrumentations: [
      getNodeAutoInstrumentations({
        "@opentelemetry/instrumentation-fs": { enabled: false },
        "@opentelemetry/instrumentation-dns": { enabled: false },
        "@opentelemetry/instrumentation-net": { enabled: false },
        // Every call's SERVER span comes from wrapService (tracing.ts), on all four call paths
        // alike, and a log line's trace ids from the logger's mixin (logger.ts): grpc-js's own
        // server spans and pino's injection would repeat both, on one path only.
        "@opentelemetry/instrumentation-grpc": { enabled: false },
        "@opentelemetry/instrumentation-pino": { enabled: false },
      }),
    ],
  });
  sdk.start();
  await waitForHooks();

  // src/main.ts drains the servers on SIGTERM/SIGINT, then runs the exit hooks
  // (this flush: the spans of the last calls) before it exits.
  const shutdown = () =>
    sdk.shutdown().catch((err: unknown) => {
      process.stderr.write(`otel: shutdown failed: ${String(err)}\n`);
    });
  addExitHook(shutdown);
  // A normal exit (event loop drained) flushes too.
  process.once("beforeExit", () => void shutdown());
}

if (tracingWanted(env)) {
  await startTelemetry();
}

export {};
