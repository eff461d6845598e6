/**
 * Every WatchOrder stream of this process hangs off one hub. The hub keeps
 * one topic per watched order and reads an order only for its topic, so N
 * watchers of one order cost one read per change, whose result they share.
 *
 * What makes a topic read:
 * - while the change listener is healthy (`listening`), only `changed` — the
 *   database's `orders_changed` notification, which also arrives for this
 *   process's own commits (Postgres and PGlite alike). Nothing polls; a
 *   local commit only marks the topic stale, so a watcher that joins before
 *   the notification reads instead of taking the old snapshot;
 * - while it is not (before the first LISTEN, after `lost`, or with no
 *   listener at all), local commits (`committed`) and a slow poll of every
 *   topic each `pollMs`; when the listener is back, every topic is read once,
 *   since notifications may have been missed meanwhile.
 * One read per topic at a time: a change during a read queues one more read.
 * A watcher that falls behind gets the latest version, not every one between.
 *
 * Limits: `maxPerOwner` watches per principal and `maxTotal` in the process
 * (RESOURCE_EXHAUSTED WATCH_LIMIT_REACHED). A slot is freed when its watch is
 * closed, whatever ended it. `close()` (shutdown) ends every watch with
 * UNAVAILABLE SHUTTING_DOWN and refuses new ones the same way.
 */
import { resourceExhausted, unavailable } from "../../kernel/errors.js";
import type { Logger } from "../../platform/logger.js";
import { createPeriodic } from "../../platform/periodic.js";
import type { Order } from "../domain/order.js";
import type { OrderWatch, OrderWatches } from "../domain/ports.js";
import { createWatchSlot, type WatchSlot } from "./watch-slot.js";

export interface WatchHubOptions {
  /** The order as stored now; undefined when unknown or deleted. */
  readonly read: (orderId: string) => Promise<Order | undefined>;
  readonly maxPerOwner: number;
  readonly maxTotal: number;
  /** Interval of the fallback poll while the listener is down, and of retries after a failed read. */
  readonly pollMs: number;
  readonly logger: Logger;
  /** Reads at once during a poll or a re-read of every topic (keeps the pool for calls). */
  readonly sweepConcurrency?: number;
}

export interface WatchHubStats {
  /** Open watches. */
  readonly watches: number;
  /** Orders watched (topics). */
  readonly orders: number;
  /** Reads made since the hub was created. */
  readonly reads: number;
  /** Whether the change listener is up (no polling). */
  readonly healthy: boolean;
  /** Open watches of one owner. */
  of(owner: string): number;
}

export interface WatchHub extends OrderWatches {
  /** An `orders_changed` notification: read the order's topic. */
  changed(orderId: string): void;
  /** This process committed a change of the order. */
  committed(orderId: string): void;
  /** The listener is (re)established. */
  listening(): void;
  /** The listener is gone until the next `listening`. */
  lost(): void;
  stats(): WatchHubStats;
  /**
   * Shutdown: every watch ends UNAVAILABLE SHUTTING_DOWN; later opens are
   * refused the same way. Resolves once every stream has let go of its watch
   * and its status has had a turn to reach the transport (at most
   * `CLOSE_WAIT_MS`: a stream stuck on a client that does not read must not
   * hold up shutdown), so servers closed after it send that status.
   */
  close(): Promise<void>;
}

interface Topic {
  readonly orderId: string;
  readonly slots: Set<WatchSlot>;
  /** The last read's result; `unread` before the first one. */
  latest: Order | undefined | typeof UNREAD;
  /** `latest` is current: read while healthy, and no change came since. */
  fresh: boolean;
  reading: Promise<void> | undefined;
  /** A change arrived during the read in flight: read once more after it. */
  again: boolean;
  retry: NodeJS.Timeout | undefined;
}

const UNREAD = Symbol("unread");
/** When a client refused for the limit may try again: slots free as other watches end. */
const LIMIT_RETRY_MS = 5000;
/** When a client of a shutting-down process may reconnect (to another instance, or this one restarted). */
const SHUTDOWN_RETRY_MS = 1000;
const CLOSE_WAIT_MS = 1000;

export function createWatchHub(opts: WatchHubOptions): WatchHub {
  const topics = new Map<string, Topic>();
  const owners = new Map<string, number>();
  const concurrency = opts.sweepConcurrency ?? 8;
  let total = 0;
  let reads = 0;
  let healthy = false;
  let closed = false;
  /** Bumped whenever the listener goes up or down: a read started in another epoch is not fresh. */
  let epoch = 0;
  let sweeping: Promise<void> | undefined;
  let sweepAgain = false;
  let drained: (() => void) | undefined;
  // A plain function for periodic.ts: sweep() runs one sweep at a time itself, and queues one asked for meanwhile.
  const poll = createPeriodic(() => sweep(), { what: "watch poll", intervalMs: opts.pollMs, logger: opts.logger, when: () => !healthy });
  poll.start();

  const release = (slot: WatchSlot, topic: Topic) => {
    total--;
    if (total === 0) drained?.();
    const n = (owners.get(slot.owner) ?? 1) - 1;
    if (n === 0) owners.delete(slot.owner);
    else owners.set(slot.owner, n);
    topic.slots.delete(slot);
    if (topic.slots.size === 0 && topics.get(topic.orderId) === topic) {
      clearTimeout(topic.retry);
      topics.delete(topic.orderId);
    }
  };

  function read(topic: Topic): Promise<void> {
    if (topic.reading) {
      topic.again = true;
      return topic.reading;
    }
    const started = epoch;
    reads++;
    topic.again = false;
    topic.reading = opts.read(topic.orderId).then(
      (order) => {
        topic.reading = undefined;
        topic.latest = order;
        topic.fresh = healthy && started === epoch && !topic.again;
        for (const slot of topic.slots) slot.offer(order);
        if (topic.again && topics.get(topic.orderId) === topic) return read(topic);
      },
      (err: unknown) => {
        topic.reading = undefined;
        readFailed(topic, err);
      },
    );
    return topic.reading;
  }

  /** Watchers that have nothing yet fail with the error; the others keep their version until a retry reads. */
  function readFailed(topic: Topic, err: unknown) {
    for (const slot of topic.slots) if (!slot.started) slot.end(err);
    if (topic.slots.size === 0 || topics.get(topic.orderId) !== topic) return;
    opts.logger.warn({ err, orderId: topic.orderId }, "watch read failed; retrying");
    clearTimeout(topic.retry);
    topic.retry = setTimeout(() => {
      topic.retry = undefined;
      if (topics.get(topic.orderId) === topic) void read(topic);
    }, opts.pollMs);
    topic.retry.unref();
  }

  /**
   * Reads every topic once, `concurrency` at a time. One sweep at a time; one
   * asked for meanwhile runs after it (the running one may have read some
   * topics before the reason for the new one, a reconnect, happened).
   */
  function sweep(): void {
    if (sweeping) {
      sweepAgain = true;
      return;
    }
    if (topics.size === 0 || closed) return;
    const queue = [...topics.values()];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) if (topics.get(t.orderId) === t) await read(t);
    };
    sweeping = Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker)).then(() => {
      sweeping = undefined;
      if (sweepAgain) {
        sweepAgain = false;
        sweep();
      }
    });
  }

  function admit(owner: string): void {
    if (closed) throw unavailable("SHUTTING_DOWN", "the service is shutting down", undefined, SHUTDOWN_RETRY_MS);
    if (total >= opts.maxTotal) {
      throw resourceExhausted("WATCH_LIMIT_REACHED", "too many open watches on this instance", LIMIT_RETRY_MS, {
        limit: "total",
        max: String(opts.maxTotal),
      });
    }
    if ((owners.get(owner) ?? 0) >= opts.maxPerOwner) {
      throw resourceExhausted("WATCH_LIMIT_REACHED", "too many open watches for this caller", LIMIT_RETRY_MS, {
        limit: "per_principal",
        max: String(opts.maxPerOwner),
      });
    }
  }

  return {
    open(owner, orderId): OrderWatch {
      admit(owner);
      let topic = topics.get(orderId);
      if (!topic) {
        topic = { orderId, slots: new Set(), latest: UNREAD, fresh: false, reading: undefined, again: false, retry: undefined };
        topics.set(orderId, topic);
      }
      const t = topic;
      const slot = createWatchSlot(owner, () => release(slot, t));
      t.slots.add(slot);
      total++;
      owners.set(owner, (owners.get(owner) ?? 0) + 1);
      // A read in flight answers this watcher too; a current snapshot answers it at once.
      if (t.reading) return slot;
      if (healthy && t.fresh && t.latest !== UNREAD) slot.offer(t.latest);
      else void read(t);
      return slot;
    },
    changed(orderId) {
      const topic = topics.get(orderId);
      if (!topic) return;
      topic.fresh = false;
      void read(topic);
    },
    committed(orderId) {
      const topic = topics.get(orderId);
      if (!topic) return;
      topic.fresh = false;
      if (!healthy) void read(topic);
    },
    listening() {
      healthy = true;
      epoch++;
      sweep();
    },
    lost() {
      healthy = false;
      epoch++;
      for (const topic of topics.values()) topic.fresh = false;
    },
    stats: () => ({
      watches: total,
      orders: topics.size,
      reads,
      healthy,
      of: (owner) => owners.get(owner) ?? 0,
    }),
    async close() {
      if (closed) return;
      closed = true;
      void poll.stop();
      const err = unavailable("SHUTTING_DOWN", "the service is shutting down", undefined, SHUTDOWN_RETRY_MS);
      for (const topic of topics.values()) for (const slot of topic.slots) slot.end(err);
      if (total === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_WAIT_MS);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await new Promise((resolve) => setImmediate(resolve)); // the streams' statuses, written after their generators end
    },
  };
}
