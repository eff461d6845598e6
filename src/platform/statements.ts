/**
 * Hot statements, built once. A statement is written with Drizzle's `sql`
 * (table and column names come from the schema) and `sql.placeholder(name)`
 * for its values; its text is rendered here at start-up, so a call only
 * fills in the values: no query builder on the hot path. postgres-js
 * prepares it on the server (Drizzle asks it to for named queries only);
 * PGlite runs the same text.
 *
 * A statement runs on its own (autocommit), never inside a transaction, so a
 * statement that must be all-or-nothing is written as one statement
 * (data-modifying CTEs) that fails as a whole.
 *
 * Values are passed to the driver as they are (no column mapping): give
 * timestamps as ISO strings, bigints as strings, JSON as text, each with a
 * cast in the SQL. What comes back is the driver's raw row: select bigint
 * money as text and times as epoch milliseconds (both drivers agree on those).
 *
 * Each run's duration, failed ones included, is recorded under the
 * statement's name (db_statement_duration_seconds, bounded.ts); inside a
 * traced call it is a span of that name too (tracing.ts `startDbSpan`).
 */
import { Placeholder, sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { statementDurations } from "./bounded.js";
import { rowsOf, type Db } from "./db.js";
import { endDbSpan, startDbSpan } from "./tracing.js";

const dialect = new PgDialect();

export type Statement<Row> = (values: Record<string, unknown>) => Promise<Row[]>;

/** A statement as the server receives it: its text, and the placeholder each `$n` is filled from. */
export interface RenderedStatement {
  readonly text: string;
  /** `params[n - 1]` names the placeholder behind `$n`. */
  readonly params: readonly string[];
}

/** Every statement prepared in this process, by name (the pgbench ceiling's script is rendered from them: bench/pgbench/generate.ts). */
const renderedByName = new Map<string, RenderedStatement>();

/** The text and parameters of the statement prepared under `name`, if one was. */
export function renderedStatement(name: string): RenderedStatement | undefined {
  return renderedByName.get(name);
}

/** `query`'s text and the placeholder names of its parameters; a statement's values are all placeholders. */
export function renderStatement(name: string, query: SQL): { rendered: RenderedStatement; query: ReturnType<PgDialect["sqlToQuery"]> } {
  const q = dialect.sqlToQuery(query);
  const params = q.params.map((v, i) => {
    if (v instanceof Placeholder) return v.name as string;
    throw new Error(`statement ${name}: parameter $${i + 1} is a value, not a placeholder`);
  });
  return { rendered: { text: q.sql, params }, query: q };
}

/**
 * The one use of Drizzle's session internals (`db._.session.prepareQuery`):
 * a query prepared from rendered SQL, run with a values object, returning the
 * driver's raw rows. Drizzle has no public API for "this text, these named
 * placeholders, no column mapping". Every hot statement goes through it, so
 * the repositories' integration tests on both drivers (and
 * test/integration/orders/create-order-statements.test.ts, which counts each
 * statement a CreateOrder runs) fail if a Drizzle upgrade changes it.
 */
function preparedQuery(db: Db, name: string, query: ReturnType<PgDialect["sqlToQuery"]>): { execute(values: Record<string, unknown>): Promise<unknown> } {
  return db._.session.prepareQuery(query, undefined, name, false);
}

/** `name` identifies the statement in logs, traces and metrics; the server keys prepared statements by text. */
export function prepareStatement<Row>(db: Db, name: string, query: SQL): Statement<Row> {
  const { rendered, query: q } = renderStatement(name, query);
  renderedByName.set(name, rendered);
  const prepared = preparedQuery(db, name, q);
  const durations = statementDurations(db).get(name);
  return async (values) => {
    const began = performance.now();
    const span = startDbSpan(name);
    let failed = true;
    try {
      const rows = rowsOf<Row>(await prepared.execute(values));
      failed = false;
      return rows;
    } finally {
      durations.record((performance.now() - began) / 1000);
      if (span) endDbSpan(span, failed);
    }
  };
}

/** The SQLSTATE of a database error, through Drizzle's wrapping (`cause`); undefined for other errors. */
export function sqlStateOf(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = e.cause as typeof e | undefined;
  }
  return undefined;
}

export const NOT_NULL_VIOLATION = "23502";

/**
 * One filter of a query that is built once per shape and then only executed
 * (orders' pages, customers' list): `key` names its shape (which filter, how
 * many values), `values` fill its placeholders, `where` builds its SQL — called
 * only when a statement of that shape is first prepared.
 */
export interface PageFilter {
  readonly key: string;
  readonly values?: Readonly<Record<string, unknown>>;
  readonly where: () => SQL;
}

/** Placeholders `${prefix}0`, `${prefix}1`, … for a list of values, and those values by name. */
export function placeholders(prefix: string, list: readonly unknown[]): { values: Record<string, unknown>; refs: ReturnType<typeof sql.placeholder>[] } {
  const values: Record<string, unknown> = {};
  list.forEach((v, i) => (values[`${prefix}${i}`] = v));
  return { values, refs: list.map((_, i) => sql.placeholder(`${prefix}${i}`)) };
}

/** The shape key of `filters`, and every value their placeholders need plus `extra`. */
export function shapeOf(filters: readonly PageFilter[], extra: Record<string, unknown>): { key: string; values: Record<string, unknown> } {
  const values = { ...extra };
  for (const f of filters) if (f.values) Object.assign(values, f.values);
  return { key: filters.map((f) => f.key).join(","), values };
}
