/**
 * Retention: rows of tables that only grow are deleted once past their
 * window, by a periodic pass (periodic.ts) that runs only on the leader of
 * its lock (leader.ts). Each service purges its own schema; its infra/
 * retention.ts supplies the statements, this runs them.
 *
 * Bounded: one statement deletes at most `batchSize` rows (its own
 * autocommit statement, so no lock or transaction outlives a batch), and a
 * pass repeats it until a batch comes back short or the pass is told to stop,
 * checked between batches. A window of 0 hours keeps the table for ever: it
 * is not purged at all.
 */
import type { Logger } from "pino";
import { createPeriodic } from "./periodic.js";

export interface PurgeTarget {
  /** The table, as the log and the metric label name it ("orders.idempotency_keys"). */
  readonly table: string;
  /** How long a row is kept, in hours; 0: for ever. */
  readonly hours: number;
  /** ONE statement: deletes at most `limit` rows older than `cutoff`, resolving to how many it deleted. */
  deleteBatch(cutoff: Date, limit: number): Promise<number>;
}

export interface RetentionOptions {
  /** What the log calls a pass ("orders retention pass"). */
  readonly what: string;
  readonly targets: readonly PurgeTarget[];
  /** RETENTION_INTERVAL_MS and RETENTION_BATCH_SIZE; default every minute, 1000 rows. */
  readonly schedule?: RetentionSchedule;
  readonly logger: Logger;
  /** A pass runs only while this is true (the leader); default always. */
  readonly when?: () => boolean;
}

export interface RetentionSchedule {
  readonly intervalMs: number;
  readonly batchSize: number;
}

export interface Retention {
  /** Whether any target is purged at all (a window above 0). */
  readonly enabled: boolean;
  start(): void;
  /** Stops the periodic pass, waiting for one in flight (it stops after its current batch). */
  stop(): Promise<void>;
  /** One pass now, every target, rows older than their window at `now`; resolves to the rows deleted per table. */
  purge(now?: Date, stop?: AbortSignal): Promise<Record<string, number>>;
  /** Rows deleted since start per table (every pass, periodic or asked for), for metrics. */
  readonly purged: Readonly<Record<string, number>>;
}

const HOUR_MS = 3_600_000;

export function createRetention(o: RetentionOptions): Retention {
  const { intervalMs, batchSize } = o.schedule ?? { intervalMs: 60_000, batchSize: 1000 };
  const targets = o.targets.filter((t) => t.hours > 0);
  const purged: Record<string, number> = Object.fromEntries(targets.map((t) => [t.table, 0]));

  const purgeTable = async (t: PurgeTarget, now: Date, stop: AbortSignal | undefined): Promise<number> => {
    const cutoff = new Date(now.getTime() - t.hours * HOUR_MS);
    let total = 0;
    for (;;) {
      if (stop?.aborted) break;
      const n = await t.deleteBatch(cutoff, batchSize);
      total += n;
      purged[t.table] += n;
      if (n < batchSize) break;
    }
    if (total > 0) o.logger.info({ table: t.table, rows: total, olderThan: cutoff.toISOString() }, "purged rows past their retention window");
    return total;
  };

  const purge = async (now = new Date(), stop?: AbortSignal) => {
    const counts: Record<string, number> = {};
    for (const t of targets) counts[t.table] = await purgeTable(t, now, stop);
    return counts;
  };
  const periodic = createPeriodic((stop) => purge(undefined, stop), {
    what: o.what,
    intervalMs,
    logger: o.logger,
    when: o.when,
  });
  return {
    enabled: targets.length > 0,
    start() {
      if (targets.length > 0) periodic.start();
    },
    stop: () => periodic.stop(),
    purge,
    purged,
  };
}
