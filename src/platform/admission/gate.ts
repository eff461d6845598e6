/**
 * A concurrency gate with a priority queue, in front of the calls that do
 * database work (wrapService, via policy.ts). At most `maxConcurrent` calls
 * run; the rest wait in one queue per class — PRIORITY (services, staff,
 * admins), VIP, STANDARD, BULK — served highest class first, FIFO within a
 * class. A slot freed while calls wait goes straight to the next waiter, so
 * "a slot is free" and "nobody waits" are the same fact, and the fast path
 * is one comparison and an increment: no promise, closure or timer.
 *
 * A call that would wait is shed at once (UNAVAILABLE OVERLOADED with a
 * retry hint) when it could not finish by its deadline: the expected wait —
 * the waiters it would queue behind, times the moving average of recent
 * service times, over the slots — plus the time a call may take once in: its
 * "allowance", the mean service time plus four mean deviations (as TCP sets
 * its retransmission timeout, RFC 6298), so that a call let in finishes
 * before its deadline nearly always — one that does not is answered by the
 * caller's own timeout, with no retry hint. A waiter leaves the queue
 * (OVERLOADED) once its remaining time is less than the allowance — and is
 * never handed a slot it could not finish in — or when its signal aborts
 * (CANCELLED). When the queue is
 * full, an arrival displaces the newest waiter of the lowest class below its
 * own, or is shed itself.
 */
import { DomainError, unavailable } from "../../kernel/errors.js";

export const PRIORITY_CLASSES = ["PRIORITY", "VIP", "STANDARD", "BULK"] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];
/** Index into PRIORITY_CLASSES: 0 is served first. */
export type ClassIndex = 0 | 1 | 2 | 3;
export const CLASS_INDEX: Readonly<Record<PriorityClass, ClassIndex>> = { PRIORITY: 0, VIP: 1, STANDARD: 2, BULK: 3 };

export interface GateOptions {
  readonly maxConcurrent: number;
  /** Waiters across all classes. */
  readonly maxQueue: number;
  /** Epoch milliseconds, high resolution; deadlines are compared with it. */
  readonly clock?: () => number;
  /** Weight of the newest service time in the moving average. */
  readonly smoothing?: number;
}

export interface GateStats {
  readonly inFlight: number;
  readonly queued: readonly number[];
  readonly avgServiceMs: number;
  /** Calls refused (shed on arrival or displaced from the queue), by class. */
  readonly shed: readonly number[];
}

export interface Gate {
  /** A slot now: the start time; -1 when every slot is taken (then call `enter`). */
  tryEnter(): number;
  /** Waits for a slot; rejects with OVERLOADED (also once it could no longer finish in time) or CANCELLED. Resolves to the start time. */
  enter(cls: ClassIndex, deadline: number, signal?: AbortSignal): Promise<number>;
  /** Gives back the slot taken at `started`, handing it to the next waiter. */
  leave(started: number): void;
  stats(): GateStats;
}

interface Waiter {
  readonly cls: ClassIndex;
  readonly deadline: number;
  readonly resolve: (started: number) => void;
  readonly reject: (err: DomainError) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const highResClock = () => performance.timeOrigin + performance.now();

export const OVERLOADED = "OVERLOADED";
/** setTimeout's longest delay: a longer one fires at once. A caller's deadline may be days away. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createGate(o: GateOptions): Gate {
  const clock = o.clock ?? highResClock;
  const alpha = o.smoothing ?? 0.1;
  const limit = o.maxConcurrent;
  const queues: Waiter[][] = [[], [], [], []];
  const shed = [0, 0, 0, 0];
  let queued = 0;
  let inFlight = 0;
  let avg = 0;
  let dev = 0;
  /** How long a call let in now may take. */
  const allowance = () => avg + 4 * dev;

  /** Expected milliseconds until `ahead` earlier waiters and then this call have been given a slot. */
  const expectedWait = (ahead: number) => ((ahead + 1) * avg) / limit;
  const aheadOf = (cls: ClassIndex) => {
    let n = 0;
    for (let c = 0; c <= cls; c++) n += queues[c].length;
    return n;
  };
  const overloaded = (cls: ClassIndex, what: string) => {
    shed[cls]++;
    const retryAfterMs = Math.max(1, Math.ceil(expectedWait(queued)));
    return unavailable(OVERLOADED, `the service is overloaded (${what}); retry later`, undefined, retryAfterMs);
  };

  const detach = (w: Waiter) => {
    if (w.timer) clearTimeout(w.timer);
    if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
  };
  const remove = (w: Waiter) => {
    const q = queues[w.cls];
    const i = q.indexOf(w);
    if (i < 0) return false;
    q.splice(i, 1);
    queued--;
    detach(w);
    return true;
  };
  /** Frees room for a `cls` arrival by shedding the newest waiter of the lowest class below it. */
  const displaceBelow = (cls: ClassIndex) => {
    for (let c = 3; c > cls; c--) {
      const victim = queues[c].at(-1);
      if (!victim) continue;
      remove(victim);
      victim.reject(overloaded(victim.cls, "displaced by a call of higher priority"));
      return true;
    }
    return false;
  };

  return {
    tryEnter() {
      if (inFlight >= limit) return -1;
      inFlight++;
      return clock();
    },
    enter(cls, deadline, signal) {
      if (inFlight < limit) {
        inFlight++;
        return Promise.resolve(clock());
      }
      if (signal?.aborted) return Promise.reject(cancelled());
      const remaining = deadline - clock();
      if (expectedWait(aheadOf(cls)) + allowance() > remaining) {
        return Promise.reject(overloaded(cls, "it could not be served before the call's deadline"));
      }
      if (queued >= o.maxQueue && !displaceBelow(cls)) return Promise.reject(overloaded(cls, "the queue is full"));
      return new Promise<number>((resolve, reject) => {
        const w: Waiter = { cls, deadline, resolve, reject, timer: undefined, signal: undefined, onAbort: undefined };
        // Leave once the call could no longer finish in time: answered OVERLOADED while its caller still listens.
        w.timer = setTimeout(() => {
          if (remove(w)) reject(overloaded(cls, "it could not be served before the call's deadline"));
        }, Math.min(MAX_TIMER_MS, Math.max(0, remaining - allowance())));
        if (signal) {
          w.signal = signal;
          w.onAbort = () => {
            if (remove(w)) reject(cancelled());
          };
          signal.addEventListener("abort", w.onAbort, { once: true });
        }
        queues[cls].push(w);
        queued++;
      });
    },
    leave(started) {
      const now = clock();
      const took = now - started;
      if (avg === 0) avg = took;
      else {
        dev += alpha * (Math.abs(took - avg) - dev);
        avg += alpha * (took - avg);
      }
      for (const q of queues) {
        for (let next = q.shift(); next; next = q.shift()) {
          queued--;
          detach(next);
          // A waiter that can no longer finish in time would only waste the slot.
          if (next.deadline - now < allowance()) {
            next.reject(overloaded(next.cls, "it could not be served before the call's deadline"));
            continue;
          }
          next.resolve(now); // the slot passes on: inFlight stays
          return;
        }
      }
      inFlight--;
    },
    stats() {
      return { inFlight, queued: queues.map((q) => q.length), avgServiceMs: avg, shed: [...shed] };
    },
  };
}

const cancelled = () => new DomainError("CANCELLED", "CALL_CANCELLED", "the caller went away while the call waited for a slot");
