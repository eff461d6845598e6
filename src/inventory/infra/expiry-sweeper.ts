/**
 * Runs the expiry sweep every `intervalMs` (and once at start), never two
 * at once. A failed run is logged and retried at the next tick. stop() tells
 * a run in flight to stop after its batch and waits for it, so the database
 * can be closed right after.
 */
import type { Logger } from "../../platform/logger.js";

export interface ExpirySweeper {
  start(): void;
  stop(): Promise<void>;
}

export function createExpirySweeper(sweep: (stop: AbortSignal) => Promise<number>, intervalMs: number, logger: Logger): ExpirySweeper {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopping = new AbortController();
  const tick = () => {
    if (running) return;
    running = sweep(stopping.signal)
      .then(
        () => undefined,
        (err: unknown) => logger.error({ err }, "reservation expiry sweep failed"),
      )
      .finally(() => {
        running = undefined;
      });
  };
  return {
    start() {
      if (timer) return;
      if (stopping.signal.aborted) stopping = new AbortController();
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      stopping.abort();
      await running;
    },
  };
}
