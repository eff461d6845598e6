/**
 * A log-once-per-interval throttle shared by the modules that watch a
 * dependency (Redis, the rate limiter, leadership): a failing dependency is
 * logged once per interval, not once per call it fails.
 */
/** Calls `fn` at most once per `intervalMs`. */
export function atMostEvery<A extends unknown[]>(intervalMs: number, fn: (...args: A) => void): (...args: A) => void {
  let last = -Infinity;
  return (...args) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    fn(...args);
  };
}
