/**
 * A call's remaining deadline bounds its database work. Repositories open
 * every transaction with `boundedTransaction(db, cx, fn, name)`, passing the
 * call's context (or nothing, for background work with no caller waiting):
 *
 * - no connection is waited for past the deadline (less DEADLINE_MARGIN_MS)
 *   nor past DB_POOL_WAIT_MS (pool-gate.ts);
 * - the transaction sets `SET LOCAL statement_timeout` and `lock_timeout`
 *   to the time left, so Postgres cancels a statement (DEADLINE_EXCEEDED
 *   DATABASE_TIMEOUT) or a lock wait (DEADLINE_EXCEEDED LOCK_TIMEOUT) that
 *   would outlive the call;
 * - the time left is checked again before COMMIT: a transaction that ran
 *   past the deadline rolls back (DEADLINE_EXCEEDED), so nothing of a call
 *   that answered DEADLINE_EXCEEDED commits after it did.
 *
 * PGlite runs every statement on one connection in this process: there is
 * no pool to wait for and no other session to hold a lock, and a statement
 * that runs long blocks the event loop, so its timers cannot interrupt it.
 * The settings are sent there too and the check before COMMIT holds.
 *
 * Each transaction's duration (BEGIN to COMMIT or ROLLBACK, the pool wait
 * not included: that is the gate's `waits`) is recorded under the name its
 * caller gives (`…_tx` by convention), with the prepared statements'
 * (statements.ts) in `statementDurations(db)`:
 * db_statement_duration_seconds{statement}. Inside a traced call it is a
 * span of that name too (tracing.ts `startDbSpan`).
 */
import { sql } from "drizzle-orm";
import { deadlineExceeded } from "../kernel/errors.js";
import type { Db } from "./db.js";
import { DB_DURATION_BUCKETS, HistogramsByName } from "./histogram.js";
import type { PoolGate } from "./pool-gate.js";
import { endDbSpan, startDbSpan } from "./tracing.js";

/** What bounds a call's database work: the part of CallContext an adapter needs. */
export interface DbBound {
  /** Epoch milliseconds by which the caller needs the answer. */
  readonly deadline: number;
}

/** How a handle's work is bounded; set by createDatabase. */
export interface DbLimits {
  /** Kept back from a call's deadline for the answer to travel (DEADLINE_MARGIN_MS). */
  readonly marginMs: number;
  /** Postgres: the pool gate. PGlite: none. */
  readonly gate?: PoolGate;
}

/** The handle `db.transaction` gives its callback. */
export type DbTransaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

const limitsOf = new WeakMap<Db, DbLimits>();

export function setDbLimits(db: Db, limits: DbLimits): void {
  limitsOf.set(db, limits);
}

const NO_LIMITS: DbLimits = { marginMs: 0 };

const durationsOf = new WeakMap<Db, HistogramsByName>();

/** Seconds per named statement and transaction run on `db` (DB_DURATION_BUCKETS); names are fixed in code. */
export function statementDurations(db: Db): HistogramsByName {
  let d = durationsOf.get(db);
  if (!d) durationsOf.set(db, (d = new HistogramsByName(DB_DURATION_BUCKETS)));
  return d;
}

export const deadlinePassed = () =>
  deadlineExceeded("DEADLINE_EXCEEDED", "the call's deadline passed before its change could commit");

/**
 * Runs `fn` in a transaction bounded by `cx` (see above); without `cx`, only
 * the pool wait is bounded. Whatever `fn` throws rolls the transaction back.
 * `name` (a constant, like a statement's) labels its duration.
 */
export async function boundedTransaction<T>(
  db: Db,
  cx: DbBound | undefined,
  fn: (tx: DbTransaction) => Promise<T>,
  name = "transaction",
): Promise<T> {
  const { gate, marginMs } = limitsOf.get(db) ?? NO_LIMITS;
  const until = cx === undefined ? undefined : cx.deadline - marginMs;
  if (until !== undefined && until <= Date.now()) throw deadlinePassed();
  const wait = gate?.acquire(true, until);
  if (wait) await wait;
  const began = performance.now();
  const span = startDbSpan(name);
  let failed = true;
  try {
    const result = await db.transaction(async (tx) => {
      if (until === undefined) return fn(tx);
      // Sent now, not awaited: the driver queues it before anything fn sends
      // and postgres-js pipelines both on the transaction's connection, so
      // fn's first statement already runs under the timeouts, and the
      // settings cost no round trip of their own.
      const timeouts = sendTimeouts(tx, until);
      let result: T;
      try {
        result = await fn(tx);
      } finally {
        await timeouts.catch(() => undefined);
      }
      await timeouts;
      // The COMMIT would start after the caller stopped waiting: roll back instead.
      if (until <= Date.now()) throw deadlinePassed();
      return result;
    });
    failed = false;
    return result;
  } finally {
    gate?.release(true);
    statementDurations(db).get(name).record((performance.now() - began) / 1000);
    if (span) endDbSpan(span, failed);
  }
}

/** Both timeouts for the rest of this transaction, in one statement; `then` is called at once, which sends it. */
function sendTimeouts(tx: DbTransaction, until: number): Promise<void> {
  const left = until - Date.now();
  if (left <= 0) return Promise.reject(deadlinePassed());
  // 0 would mean "no timeout": at least 1 ms. lock_timeout a tenth shorter, so
  // a statement stuck behind a row lock fails as LOCK_TIMEOUT (statement_timeout
  // counts lock waits too). Digits only, inlined: a statement without
  // parameters goes out in one round trip (postgres-js sends a parameterised
  // unprepared one as two).
  const statementMs = sql.raw(`'${Math.max(1, Math.floor(left))}'`);
  const lockMs = sql.raw(`'${Math.max(1, Math.floor(left * 0.9))}'`);
  return tx
    .execute(sql`select set_config('statement_timeout', ${statementMs}, true), set_config('lock_timeout', ${lockMs}, true)`)
    .then(() => undefined);
}
