/**
 * Recognises Postgres errors through Drizzle's wrapping (DrizzleQueryError
 * keeps the driver error in `cause`), for postgres-js and PGlite alike.
 */
import { aborted, deadlineExceeded, DomainError, unavailable } from "../kernel/errors.js";

interface PgErrorFields {
  code?: unknown;
  constraint_name?: unknown; // postgres-js
  constraint?: unknown; // PGlite
  cause?: unknown;
}

export const UNIQUE_VIOLATION = "23505";

/** `err` and the causes it wraps, outermost first (a few levels at most). */
function* chain(err: unknown): Generator<PgErrorFields> {
  for (let e = err as PgErrorFields | undefined, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    yield e;
    e = e.cause as PgErrorFields | undefined;
  }
}

export function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (const e of chain(err)) {
    if (e.code === UNIQUE_VIOLATION) return (e.constraint_name ?? e.constraint) === constraint;
  }
  return false;
}

/** Socket and driver codes (Node, postgres-js) of a database that cannot be reached. */
const UNREACHABLE = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH",
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
]);

/**
 * A failure of the database rather than of the request, as the status a
 * client can act on: UNAVAILABLE (retry later) when it cannot be reached, is
 * shutting down or is out of connections; ABORTED (retry now) for a
 * serialisation failure or deadlock; DEADLINE_EXCEEDED when the server
 * cancelled the statement (statement_timeout) or gave up waiting for a
 * lock (lock_timeout). Undefined for anything else.
 * The messages are fixed: no SQL, host or driver text reaches the client.
 */
export function databaseFailureOf(err: unknown): DomainError | undefined {
  for (const e of chain(err)) {
    // Ours, thrown inside a driver call and wrapped by Drizzle (DrizzleQueryError): as it was.
    if (e instanceof DomainError) return e;
    const code = typeof e.code === "string" ? e.code : undefined;
    if (!code) continue;
    if (UNREACHABLE.has(code) || code.startsWith("08") || code.startsWith("53") || /^57P0[123]$/.test(code)) {
      return unavailable("DATABASE_UNAVAILABLE", "the database is unavailable; retry later");
    }
    if (code === "40001" || code === "40P01") {
      return aborted("DATABASE_CONFLICT", "the change conflicted with a concurrent one; retry it");
    }
    if (code === "57014") return deadlineExceeded("DATABASE_TIMEOUT", "the database did not answer in time");
    // lock_timeout (boundedTransaction sets it from the call's deadline): a row stayed locked too long.
    if (code === "55P03") return deadlineExceeded("LOCK_TIMEOUT", "a row the change needs stayed locked past the call's deadline");
  }
  return undefined;
}
