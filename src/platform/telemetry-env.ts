/**
 * Whether OpenTelemetry tracing is on, from the standard OTEL_* variables:
 * an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or an explicit OTEL_TRACES_EXPORTER,
 * unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 *
 * One rule for the two readers: instrumentation.ts (which starts the SDK
 * before anything else loads) and config.ts (which tells wrapService to
 * make spans). Pure: the caller passes the environment.
 */
export function tracingWanted(env: Readonly<Record<string, string | undefined>>): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  const tracesExporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (tracesExporter === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || tracesExporter);
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}
