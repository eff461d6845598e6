/**
 * A histogram kept by hand: explicit bucket bounds, cumulative since it was
 * made, recorded with a few additions and a short scan (no allocation, no
 * attribute hashing: see metrics.ts for what the SDK's instruments cost).
 * metrics.ts prints it at scrape time as the SDK would print its own
 * explicit-bucket histogram (`test/unit/platform/metrics.test.ts`). Nothing
 * here imports OpenTelemetry: the code that records (the pool gate,
 * prepared statements, wrapService) stays light.
 */

/** Bucket bounds of call and statement durations, in seconds (1 ms … 10 s). */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Database work is often well under a millisecond: 100 µs … 10 s. */
export const DB_DURATION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, ...DURATION_BUCKETS];

/** Waits for a pooled connection: `le="0"` counts the units that found a slot free. */
export const POOL_WAIT_BUCKETS: readonly number[] = [0, 0.0001, 0.0005, ...DURATION_BUCKETS];

export class Histogram {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Per bucket (`boundaries`, then +Inf): values ≤ its bound and above the previous one. */
  readonly counts: number[];

  constructor(readonly boundaries: readonly number[]) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
  }
}

/** Histograms by a name fixed in code (a statement's, a transaction's), made on first use. */
export class HistogramsByName {
  private readonly byName = new Map<string, Histogram>();

  constructor(private readonly boundaries: readonly number[]) {}

  get(name: string): Histogram {
    let h = this.byName.get(name);
    if (!h) this.byName.set(name, (h = new Histogram(this.boundaries)));
    return h;
  }

  entries(): IterableIterator<[string, Histogram]> {
    return this.byName.entries();
  }
}
