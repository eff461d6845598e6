/**
 * The two moments of a drain that calls must hear of (app.ts close()):
 * `streams` aborts when draining begins — a server stream ends then with
 * UNAVAILABLE / SHUTTING_DOWN and a RetryInfo, so its client reconnects to
 * another instance instead of holding this one for the whole grace period;
 * `calls` aborts when the grace period is over — a unary call still running
 * sees its signal fire and is answered (if its connection still stands)
 * with the same error. wrapService (handlers.ts) reads both, for every
 * transport.
 */
import { unavailable, type DomainError } from "../kernel/errors.js";

/** How soon a client whose call met the shutdown should try again (elsewhere). */
export const SHUTDOWN_RETRY_AFTER_MS = 1000;

export interface ShutdownSignals {
  readonly streams: AbortSignal;
  readonly calls: AbortSignal;
  /** Draining begins: end server streams. */
  endStreams(): void;
  /** The grace period is over: cancel what still runs. */
  cancelCalls(): void;
}

export function shuttingDown(): DomainError {
  return unavailable("SHUTTING_DOWN", "the server is shutting down; retry on another instance", undefined, SHUTDOWN_RETRY_AFTER_MS);
}

export function createShutdownSignals(): ShutdownSignals {
  const streams = new AbortController();
  const calls = new AbortController();
  return {
    streams: streams.signal,
    calls: calls.signal,
    endStreams: () => streams.abort(shuttingDown()),
    cancelCalls() {
      streams.abort(shuttingDown());
      calls.abort(shuttingDown());
    },
  };
}
