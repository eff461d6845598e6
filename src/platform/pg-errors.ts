/**
 * Recognises Postgres errors through Drizzle's wrapping (DrizzleQueryError
 * keeps the driver error in `cause`), for postgres-js and PGlite alike.
 */
interface PgErrorFields {
  code?: unknown;
  constraint_name?: unknown; // postgres-js
  constraint?: unknown; // PGlite
  cause?: unknown;
}

export const UNIQUE_VIOLATION = "23505";

export function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (let e = err as PgErrorFields | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === UNIQUE_VIOLATION) return (e.constraint_name ?? e.constraint) === constraint;
    e = e.cause as PgErrorFields | undefined;
  }
  return false;
}
