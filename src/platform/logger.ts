/**
 * JSON logs to stdout; one root logger, handed down by composition. Secrets
 * and customer data never reach them:
 *
 * - `redact` censors credentials wherever a log call puts them
 *   (authorization headers, tokens, passwords, connection URLs).
 * - Errors go through `safeError`: a failed statement is logged with its SQL
 *   but never its parameters (Drizzle puts them in the message; they hold
 *   emails, addresses, names), and a database error keeps its SQLSTATE,
 *   constraint and table but not its `detail` (which quotes row values).
 *   URLs in messages lose their passwords.
 *
 * With tracing on, each line made inside a call carries its `trace_id` and
 * `span_id` (the active span, tracing.ts), so logs and traces join.
 */
import pino, { type Logger } from "pino";
import { activeTraceIds } from "./tracing.js";

export type { Logger };

const CENSORED = [
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.*.authorization",
  "token",
  "*.token",
  "password",
  "*.password",
  "databaseUrl",
  "*.databaseUrl",
  "url",
  "*.url",
];

/** user:password@ in any URL-looking text. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi;
/** What follows "params:" in a Drizzle "Failed query" message. */
const PARAMS = /\nparams: [\s\S]*$/;

const scrub = (text: string | undefined) => text?.replace(PARAMS, "\nparams: [not logged]").replace(URL_PASSWORD, "$1***@");

interface ErrorLike {
  name?: string;
  message?: string;
  stack?: string;
  code?: unknown;
  cause?: unknown;
  [key: string]: unknown;
}

/** Fields of a database (or other) error that are safe to keep. */
const KEPT = ["code", "severity", "constraint", "constraint_name", "table", "table_name", "schema", "schema_name", "column", "column_name", "routine", "reason"];

export function safeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) && (typeof err !== "object" || err === null)) return err;
  const e = err as ErrorLike;
  const out: Record<string, unknown> = { type: e.name ?? e.constructor?.name, message: scrub(e.message), stack: scrub(e.stack) };
  for (const k of KEPT) if (typeof e[k] === "string" || typeof e[k] === "number") out[k] = e[k];
  if (typeof e.query === "string") out.query = e.query;
  if (e.cause !== undefined && depth < 3) out.cause = safeError(e.cause, depth + 1);
  return out;
}

export interface LoggerOptions {
  /** Add the active span's `trace_id` and `span_id` to every line (tracing on: config.ts `tracing`). */
  readonly traceIds?: boolean;
}

export function createLogger(level: string, destination?: pino.DestinationStream, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      ...(opts.traceIds ? { mixin: () => activeTraceIds() ?? {} } : {}),
      base: { service: "order-service" },
      redact: { paths: CENSORED, censor: "[redacted]" },
      serializers: { err: (err: unknown) => safeError(err), error: (err: unknown) => safeError(err) },
    },
    destination,
  );
}
