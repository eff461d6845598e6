/**
 * Background work on a timer: the order reconciler and the reservation
 * expiry sweeper. Runs `task` every `intervalMs` (and once at start when
 * asked), never two at once, and only while `when()` says so — with several
 * instances, while this one is the leader (leader.ts). A failed run is logged
 * and tried again at the next tick. stop() tells a run in flight to stop
 * (the task checks the signal between items and passes it to its calls) and
 * waits for it, so shutdown is not held by a long pass and the database can
 * be closed right after.
 */
import type { Logger } from "pino";

export interface Periodic {
  start(): void;
  stop(): Promise<void>;
}

export interface PeriodicOptions {
  /** What a run is, for the log of a failed one ("reconciler pass"). */
  readonly what: string;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Also run once at start (default false). */
  readonly runAtStart?: boolean;
  /** A tick runs only when this is true (default: always). */
  readonly when?: () => boolean;
}

export function createPeriodic(task: (stop: AbortSignal) => Promise<unknown>, o: PeriodicOptions): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopping = new AbortController();
  const tick = () => {
    if (running || (o.when && !o.when())) return;
    running = task(stopping.signal)
      .then(
        () => undefined,
        (err: unknown) => o.logger.error({ err }, `${o.what} failed`),
      )
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
  };
}
