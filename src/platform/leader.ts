/**
 * One leader among the instances sharing a database, for background work
 * that must not run twice at once (the order reconciler, the reservation
 * expiry sweeper: periodic.ts asks `isLeader` before each run). The leader
 * holds a Postgres session-level advisory lock (db.ts `sessionLock`) on a
 * connection of its own; the others try to take it every `retryMs`. The lock
 * is handed over when the leader stops (released at close) or dies (its
 * session ends with its connection, and Postgres frees the lock), so another
 * instance leads within about `retryMs`. The leader checks its connection
 * every `retryMs` too: a leader whose connection closed or stopped answering
 * stops leading at once, and ends that session so its lock cannot linger.
 * The tries are a periodic.ts job: one at a time, the first at start.
 *
 * On PGlite there is no lock to take: one process owns the data directory,
 * so it always leads.
 */
import type { Logger } from "pino";
import type { Database, SessionLock } from "./db.js";
import { atMostEvery } from "./at-most-every.js";
import { createPeriodic } from "./periodic.js";

export interface Leadership {
  /** Whether this instance runs the single-instance background work now. */
  readonly isLeader: boolean;
  /** Starts trying; resolves once the first try is over (so work run at start knows who leads). */
  start(): Promise<void>;
  /** Stops trying and gives the lock back (another instance takes over at its next try). */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** The lock's name: the same in every instance of one deployment. */
  readonly name: string;
  /** What the leader runs, for the log. */
  readonly what: string;
  /** How often a follower tries to lead, and a leader checks its connection (LEADER_RETRY_MS). */
  readonly retryMs: number;
  readonly logger: Logger;
}

export function createLeadership(database: Database, o: LeadershipOptions): Leadership {
  if (!database.sessionLock) {
    return { isLeader: true, start: async () => {}, stop: async () => {} };
  }
  const { logger } = o;
  let lock: SessionLock | undefined;
  let stopped = false;
  const failed = atMostEvery(30_000, (err: unknown) => logger.warn({ err }, "could not try for leadership; retrying"));
  const lost = () => logger.warn({ lock: o.name }, "lost leadership: the lock's database connection closed");

  const attempt = async () => {
    lock ??= database.sessionLock!(o.name, lost);
    if (lock.held) {
      if (await lock.check()) return;
      logger.warn({ lock: o.name }, "the leader's database connection does not answer: no longer leading");
      const gone = lock;
      lock = undefined; // a fresh session next time; this one is ended, so its lock cannot linger
      await gone.release();
      return;
    }
    if (await lock.tryAcquire()) logger.info({ lock: o.name }, `leading: this instance runs ${o.what}`);
  };
  const tries = createPeriodic(attempt, { what: `tries for leadership (${o.name})`, intervalMs: o.retryMs, logger, runAtStart: true, onError: failed });
  return {
    get isLeader() {
      return !stopped && lock?.held === true;
    },
    async start() {
      if (stopped) return;
      tries.start();
      await tries.idle();
    },
    async stop() {
      stopped = true;
      await tries.stop();
      await lock?.release();
    },
  };
}
