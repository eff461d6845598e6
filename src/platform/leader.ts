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
 *
 * On PGlite there is no lock to take: one process owns the data directory,
 * so it always leads.
 */
import type { Logger } from "pino";
import type { Database, SessionLock } from "./db.js";
import { atMostEvery } from "./at-most-every.js";

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
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> | undefined;
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
  const tick = () => {
    if (busy || stopped) return;
    busy = attempt()
      .catch(failed)
      .finally(() => (busy = undefined));
  };
  return {
    get isLeader() {
      return !stopped && lock?.held === true;
    },
    async start() {
      if (timer || stopped) return;
      timer = setInterval(tick, o.retryMs);
      timer.unref();
      tick();
      await busy;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await busy;
      await lock?.release();
    },
  };
}
