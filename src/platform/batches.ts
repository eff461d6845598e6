/**
 * Grouping concurrent calls into one: while a batch is in flight, new calls
 * queue; when it ends, everything queued (up to `max`) goes as the next batch.
 * No timer and no added wait: a lone call runs at once, on its own; under
 * load the batches grow by themselves to what arrived during the last one.
 *
 * What it is for: statements that lock the same rows (a flash sale's stock,
 * inventory/infra/reservation-batches.ts). Each statement holds its row
 * locks until its commit is on disk, so N callers on one row take N lock
 * waits and N flushes one after another; as one statement they take one.
 *
 * `batch` runs two or more items and answers each, or `ALONE` for an item it
 * could not settle together with the others (its own run decides it then);
 * if `batch` throws, every item runs alone. `alone` runs one item. Items that
 * run alone after a batch run one after another, in arrival order, before
 * the next batch.
 */
export const ALONE: unique symbol = Symbol("alone");

export interface BatchOptions<I> {
  /** Most items in one batch. */
  readonly max: number;
  /** Items that must not share a batch (e.g. the same key twice): the later waits for the next one. */
  readonly keyOf?: (item: I) => string;
  /** A batch threw (its items then ran alone): for the log. */
  readonly onBatchError?: (err: unknown, size: number) => void;
}

export function batched<I, O>(
  batch: (items: readonly I[]) => Promise<readonly (O | typeof ALONE)[]>,
  alone: (item: I) => Promise<O>,
  o: BatchOptions<I>,
): (item: I) => Promise<O> {
  interface Pending {
    readonly item: I;
    resolve(o: O): void;
    reject(err: unknown): void;
  }
  let queue: Pending[] = [];
  let running = false;

  const settleAlone = async (p: Pending) => {
    try {
      p.resolve(await alone(p.item));
    } catch (err) {
      p.reject(err);
    }
  };

  const take = (): Pending[] => {
    if (!o.keyOf) return queue.splice(0, o.max);
    const taken: Pending[] = [];
    const keys = new Set<string>();
    const rest: Pending[] = [];
    for (const p of queue) {
      const key = o.keyOf(p.item);
      if (taken.length < o.max && !keys.has(key)) {
        keys.add(key);
        taken.push(p);
      } else rest.push(p);
    }
    queue = rest;
    return taken;
  };

  const drain = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        const group = take();
        if (group.length === 1) {
          await settleAlone(group[0]!);
          continue;
        }
        let answers: readonly (O | typeof ALONE)[];
        try {
          answers = await batch(group.map((p) => p.item));
          if (answers.length !== group.length) throw new Error(`a batch of ${group.length} answered ${answers.length}`);
        } catch (err) {
          o.onBatchError?.(err, group.length);
          answers = group.map(() => ALONE);
        }
        const left: Pending[] = [];
        group.forEach((p, i) => {
          const a = answers[i];
          if (a === ALONE) left.push(p);
          else p.resolve(a as O);
        });
        for (const p of left) await settleAlone(p);
      }
    } finally {
      running = false;
    }
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
