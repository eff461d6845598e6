/**
 * The one helper for work on a timer: the order reconciler, the reservation
 * expiry sweeper, retention passes, leadership tries (leader.ts), the
 * database health check (health.ts), the watch hub's fallback poll and the
 * VIP roster reload (app.ts). Runs
 * `task` every `intervalMs` (and once at start when asked), only while
 * `when()` says so — with several instances, while this one is the leader
 * (leader.ts). The timer never keeps the process alive.
 *
 * A task that returns a promise is a job: never two runs at once (a tick
 * during a run is skipped), a failed run is reported (`onError`; by default
 * logged as "<what> failed") and tried again at the next tick. stop() tells
 * a run in flight to stop (the task checks the signal between items and
 * passes it to its calls) and waits for it, so shutdown is not held by a
 * long pass and the database can be closed right after.
 *
 * A task that returns nothing is a plain function (it starts work of its
 * own, or bounds it itself): it is called at every tick, and there is
 * nothing to wait for.
 */
import type { Log } from "../kernel/log.js";

export interface Periodic {
  start(): void;
  stop(): Promise<void>;
  /** Resolves once no run is in flight (at once when none is): right after start(), once the run at start is over. */
  idle(): Promise<void>;
}

export interface PeriodicOptions {
  /** What a run is, for the log of a failed one ("reconciler pass"). */
  readonly what: string;
  readonly intervalMs: number;
  readonly logger: Log;
  /** Also run once at start (default false). */
  readonly runAtStart?: boolean;
  /** A tick runs only when this is true (default: always). */
  readonly when?: () => boolean;
  /** How a failed run is reported (default: logged at error level, "<what> failed"). */
  readonly onError?: (err: unknown) => void;
}

export function createPeriodic(task: (stop: AbortSignal) => Promise<unknown> | void, o: PeriodicOptions): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopping = new AbortController();
  const failed = o.onError ?? ((err: unknown) => o.logger.error({ err }, `${o.what} failed`));
  const tick = () => {
    if (running || (o.when && !o.when())) return;
    let run: Promise<unknown> | void;
    try {
      run = task(stopping.signal);
    } catch (err) {
      failed(err);
      return;
    }
    if (!run) return;
    running = run
      .then(() => undefined, failed)
      .finally(() => {
        running = undefined;
      });
  };
  return {
    start() {
      if (timer) return;
      if (stopping.signal.aborted) stopping = new AbortController();
      timer = setInterval(tick, o.intervalMs);
      timer.unref();
      if (o.runAtStart) tick();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      stopping.abort();
      await running;
    },
    idle: async () => {
      await running;
    },
  };
}
