/**
 * The relay: publishes one outbox (outbox-store.ts) to a broker
 * (event.ts `EventPublisher`), at least once, each aggregate's events in
 * order. One instance relays at a time: the leader of the relay's lock
 * (leader.ts); another takes over when it stops or dies.
 *
 * A pass claims a batch in id order, hands it to the publisher, then marks
 * what was published. Per aggregate nothing overtakes: after the first event
 * of an aggregate that could not be published (broker refused it), that
 * aggregate's later events in the batch wait for the next pass. The relay
 * wakes on this process's commits (`wake`, called by the repository after a
 * change commits) and otherwise polls every `pollMs` (other processes'
 * commits; no NOTIFY on outbox inserts: it cost the order transaction 40%).
 *
 * Failures:
 * - The broker unreachable or refusing (publish throws): nothing is counted
 *   against the events; the relay backs off (100 ms doubling to
 *   `maxBackoffMs`) and tries again, first asking the broker which of the
 *   batch it already has. RPCs are not affected: they only write the outbox.
 * - An event the broker cannot take (over its size limit, known before
 *   sending): one attempt is counted on its row and its aggregate's later
 *   events wait; after `maxAttempts` it goes to the dead letters (the
 *   broker's dead-letter stream and `dead_time` on the row), counted, and
 *   its aggregate's later events go on.
 * - A crash between publishing and marking: the next leader asks the
 *   publisher which events of its first batch are already on the broker,
 *   and marks those without adding them again.
 * - The database down while marking: the published positions are kept and
 *   marked first on the next pass.
 */
import type { Logger } from "pino";
import { atMostEvery } from "../at-most-every.js";
import { DURATION_BUCKETS, Histogram } from "../histogram.js";
import { eventBytes, type EventPublisher, type OutboxEvent } from "./event.js";
import type { OutboxStore } from "./outbox-store.js";

export interface OutboxRelayOptions {
  readonly store: OutboxStore;
  readonly publisher: EventPublisher;
  /** The stream (Redis stream / NATS subject root) events go to: "orders", "inventory". */
  readonly stream: string;
  /** CloudEvents `source`. */
  readonly source: string;
  readonly batchSize: number;
  readonly pollMs: number;
  readonly maxAttempts: number;
  readonly maxBackoffMs?: number;
  readonly logger: Logger;
  /** The relay runs only while this is true (the leader of its lock); default always. */
  readonly isLeader?: () => boolean;
}

export interface RelayStats {
  readonly published: number;
  readonly deadLettered: number;
  /** Publish failures: broker unreachable (per pass) or an event refused (per event). */
  readonly failures: number;
  /** Whether the last try reached the broker. */
  readonly brokerUp: boolean;
  /** Age of the oldest event still waiting when the relay last looked (0: none waited), ms; for /readyz. */
  readonly oldestWaitingMs: number;
  /** Commit → on the broker, seconds, of every event this relay published (events_publish_lag_seconds). */
  readonly lag: Histogram;
}

/** What a service module needs to publish its outbox: the broker, the relay's settings, whether this instance relays now. */
export interface EventsOut {
  readonly publisher: EventPublisher;
  readonly relay: Pick<OutboxRelayOptions, "source" | "batchSize" | "pollMs" | "maxAttempts">;
  /** With several instances: whether this one relays now (its own lock, leader.ts); default always. */
  readonly isLeader?: () => boolean;
}

export interface OutboxRelay {
  start(): void;
  /** A change committed here: publish soon. */
  wake(): void;
  /** Stops; a pass in flight finishes its batch first. */
  stop(): Promise<void>;
  /** One pass now (tests, the CLI): how many events it published. */
  runOnce(): Promise<number>;
  stats(): RelayStats;
}

/** Commit → broker: 1 ms … 10 s, then a minute for a backlog drained after an outage. */
export const LAG_BUCKETS: readonly number[] = [...DURATION_BUCKETS, 30, 60];

export function createOutboxRelay(o: OutboxRelayOptions): OutboxRelay {
  const { store, publisher, stream, source, logger } = o;
  const maxBackoffMs = o.maxBackoffMs ?? 5000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let backingOff = false;
  let backoffMs = 0;
  let checkTail = true; // first batch after (re)taking over: ask the broker what it already has
  let wasLeader = false;
  let unmarked: number[] = [];
  const counts = { published: 0, deadLettered: 0, failures: 0 };
  let brokerUp = true;
  let oldestWaitingMs = 0;
  const lag = new Histogram(LAG_BUCKETS);
  const unreachable = atMostEvery(30_000, (err: unknown) =>
    logger.warn({ err, broker: publisher.broker, stream: publisher.describe(stream) }, "event broker unreachable; events wait in the outbox"),
  );

  const isLeader = () => (o.isLeader ? o.isLeader() : true);

  async function markPending(): Promise<void> {
    if (unmarked.length === 0) return;
    const positions = unmarked;
    unmarked = [];
    try {
      await store.markPublished(positions);
    } catch (err) {
      unmarked = positions.concat(unmarked); // marked first on the next pass
      throw err;
    }
  }

  /** An event the broker cannot take (over its size limit): one attempt counted; dead-lettered after maxAttempts. */
  async function refuse(e: OutboxEvent, error: string): Promise<boolean> {
    counts.failures++;
    const dead = e.attempts + 1 >= o.maxAttempts;
    if (dead) {
      await publisher.deadLetter(stream, source, e, error);
      counts.deadLettered++;
      logger.error({ eventId: e.id, type: e.type, subject: e.aggregateId, attempts: e.attempts + 1, error }, "event dead-lettered");
    }
    await store.recordFailure(e.position, error, dead);
    return dead;
  }

  async function pass(): Promise<number> {
    await markPending();
    const batch = await store.claim(o.batchSize);
    oldestWaitingMs = batch.length === 0 ? 0 : Math.max(0, Date.now() - batch[0].time.getTime());
    if (batch.length === 0) return 0;
    // Events the broker cannot take stay behind, and so do their aggregates' later events (order per aggregate).
    const blocked = new Set<string>();
    const todo: OutboxEvent[] = [];
    for (const e of batch) {
      if (blocked.has(e.aggregateId)) continue;
      const bytes = eventBytes(e, source);
      if (bytes > publisher.maxEventBytes) {
        const dead = await refuse(e, `event of ${bytes} bytes is over the broker's limit of ${publisher.maxEventBytes}`);
        if (!dead) blocked.add(e.aggregateId);
        continue;
      }
      todo.push(e);
    }
    let fresh: OutboxEvent[] = todo;
    // Asking the broker is reaching it too: a failure there counts (and reports the broker down) like a failed publish.
    try {
      if (checkTail && todo.length > 0) {
        const there = await publisher.alreadyPublished(stream, todo);
        if (there.size > 0) {
          logger.info({ stream: publisher.describe(stream), events: there.size }, "events already on the broker: marked, not added again");
          for (const e of todo) if (there.has(e.id)) unmarked.push(e.position);
          fresh = todo.filter((e) => !there.has(e.id));
        }
      }
      if (fresh.length > 0) await publisher.publish(stream, source, fresh);
    } catch (err) {
      brokerUp = false;
      checkTail = true; // some of the batch may have been added: ask before adding again
      counts.failures++;
      unreachable(err);
      await markPending().catch(() => undefined);
      throw err;
    }
    checkTail = false;
    brokerUp = true;
    backoffMs = 0;
    const now = Date.now();
    for (const e of fresh) {
      unmarked.push(e.position);
      lag.record(Math.max(0, now - e.time.getTime()) / 1000);
    }
    counts.published += fresh.length;
    const handled = unmarked.length;
    await markPending();
    return handled;
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });

  async function run(): Promise<void> {
    while (running) {
      const leading = isLeader();
      if (leading && !wasLeader) checkTail = true;
      wasLeader = leading;
      if (!leading) {
        await sleep(o.pollMs);
        continue;
      }
      try {
        const n = await pass();
        if (n < o.batchSize) await sleep(o.pollMs);
      } catch (err) {
        if (brokerUp) logger.error({ err }, "outbox relay pass failed; retrying");
        backoffMs = Math.min(maxBackoffMs, Math.max(100, backoffMs * 2));
        // Commits do not cut a backoff short (each would cost a claim and a try at the broker); stop() does.
        backingOff = true;
        woken = false;
        await sleep(backoffMs);
        backingOff = false;
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake() {
      if (backingOff) return;
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      loop = undefined;
    },
    runOnce: () => pass(),
    stats: () => ({ ...counts, brokerUp, oldestWaitingMs, lag }),
  };
}
