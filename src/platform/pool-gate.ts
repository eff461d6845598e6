/**
 * The bound postgres-js does not have: a wait for a pooled connection that
 * ends. postgres-js queues a query for a free connection for ever, so one
 * hot row with a dozen writers locked on it held every connection and an
 * unrelated read waited seconds behind them. A unit of database work takes
 * a slot here first: at most `size` are in flight, and at most
 * `transactions` of them are transactions, which hold a connection of their
 * own and can sit on a row lock until their deadline. A unit that finds no
 * slot waits in FIFO order until `until` (its call's deadline less the
 * margin) or `waitMs`, whichever is first, then fails: DEADLINE_EXCEEDED
 * when the deadline ended the wait, UNAVAILABLE DB_POOL_EXHAUSTED (with a
 * retry hint) otherwise.
 *
 * db.ts gates transactions (boundedTransaction takes the slot) with a share
 * of four fifths of the pool. Autocommit statements do not pass here: they
 * never hold a connection, postgres-js pipelines them on the connections no
 * transaction holds — always at least a fifth of the pool — and they take
 * no row lock beyond their own statement. Gating them too was measured and
 * dropped: under a burst (1,000 concurrent orders on a 2-core box) their
 * FIFO waits passed a second, failing calls postgres-js would have served.
 *
 * Cheap on the path every call takes: a free slot is two counter updates and
 * no allocation; only a unit that must wait gets a promise and a timer.
 *
 * `waits` (db_pool_wait_seconds) records each unit's wait: 0 for a slot
 * found free, so its count is the units that asked; a wait that ended in a
 * refusal is recorded too, for as long as it lasted.
 */
import { deadlineExceeded, unavailable, type DomainError } from "../kernel/errors.js";
import { Histogram, POOL_WAIT_BUCKETS } from "./histogram.js";

export interface PoolGateOptions {
  /** Units of work in flight at once: the pool's size. */
  readonly size: number;
  /** Of those, how many may be transactions (≤ size). */
  readonly transactions: number;
  /** The longest a unit waits for a slot (DB_POOL_WAIT_MS). */
  readonly waitMs: number;
}

export interface PoolGate {
  /**
   * Takes a slot: undefined when one was free (the unit may start now),
   * otherwise a promise that resolves once the slot is handed over, or
   * rejects when the wait ends first. `until` is an epoch-ms bound on the wait.
   */
  acquire(transaction: boolean, until?: number): Promise<void> | undefined;
  /** Gives back a slot taken by `acquire` (once per successful acquire). */
  release(transaction: boolean): void;
  /** For tests and metrics: slots in use, transactions among them, units waiting. */
  stats(): { inUse: number; transactions: number; waiting: number };
  /** Seconds each unit waited for its slot (POOL_WAIT_BUCKETS; 0 when one was free), served or refused. */
  readonly waits: Histogram;
}

interface Waiter {
  readonly transaction: boolean;
  readonly byDeadline: boolean;
  /** performance.now() when it began to wait. */
  readonly since: number;
  resolve(): void;
  reject(err: DomainError): void;
  timer: NodeJS.Timeout | undefined;
}

/** Transactions' share of a pool of `size`: a fifth (at least one) is kept for statements when the pool has room for it. */
export function transactionShare(size: number): number {
  return size <= 1 ? size : size - Math.max(1, Math.floor(size / 5));
}

export function createPoolGate(opts: PoolGateOptions): PoolGate {
  const { size, waitMs } = opts;
  const txMax = Math.min(opts.transactions, size);
  let inUse = 0;
  let txInUse = 0;
  // FIFO; a waiter leaves by being served or by timing out (spliced out).
  const waiters: Waiter[] = [];
  const waits = new Histogram(POOL_WAIT_BUCKETS);
  const waited = (w: Waiter) => waits.record((performance.now() - w.since) / 1000);

  const fits = (transaction: boolean) => inUse < size && (!transaction || txInUse < txMax);
  const take = (transaction: boolean) => {
    inUse++;
    if (transaction) txInUse++;
  };

  function expire(this: Waiter) {
    const i = waiters.indexOf(this);
    if (i < 0) return;
    waiters.splice(i, 1);
    waited(this);
    this.reject(
      this.byDeadline
        ? deadlineExceeded("DEADLINE_EXCEEDED", "the call's deadline passed while it waited for a database connection")
        : unavailable("DB_POOL_EXHAUSTED", "no database connection became free in time; retry later", undefined, waitMs),
    );
  }

  /** Hands freed slots to the first waiters that fit (a transaction over its share lets a statement behind it go). */
  function serve() {
    for (let i = 0; i < waiters.length && inUse < size; ) {
      const w = waiters[i];
      if (!fits(w.transaction)) {
        i++;
        continue;
      }
      waiters.splice(i, 1);
      clearTimeout(w.timer);
      take(w.transaction);
      waited(w);
      w.resolve();
    }
  }

  return {
    acquire(transaction, until) {
      // No waiter fits whenever serve() has run, so a unit that fits jumps no queue.
      if (fits(transaction)) {
        take(transaction);
        waits.record(0);
        return undefined;
      }
      const left = until === undefined ? waitMs : Math.min(waitMs, until - Date.now());
      const byDeadline = until !== undefined && until - Date.now() < waitMs;
      return new Promise<void>((resolve, reject) => {
        const w: Waiter = { transaction, byDeadline, since: performance.now(), resolve, reject, timer: undefined };
        waiters.push(w);
        w.timer = setTimeout(expire.bind(w), Math.max(0, left));
      });
    },
    release(transaction) {
      inUse--;
      if (transaction) txInUse--;
      if (waiters.length > 0) serve();
    },
    stats: () => ({ inUse, transactions: txInUse, waiting: waiters.length }),
    waits,
  };
}
