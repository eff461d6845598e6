/**
 * A consumer of the order service's events on Redis Streams, to copy into
 * your own service (README.md next to this file explains how to run it).
 *
 * What it does, and why (the delivery contract is in
 * proto/orders/v1/order_events.proto):
 *
 * - One consumer GROUP per downstream service ("billing", "shipping"), one
 *   consumer NAME per process ("billing-7f9c-1"). Redis hands each stream
 *   entry to one consumer of the group and keeps it in the group's pending
 *   entries list (PEL) until that consumer acknowledges it (XACK).
 * - Events arrive AT LEAST ONCE: the service may publish an event twice (a
 *   relay that died mid-batch), and this consumer sees an entry again when it
 *   died before XACK. So every event goes through: dedupe check → handle →
 *   mark processed → XACK. A crash between "mark" and XACK is caught by the
 *   dedupe check of the next delivery; a crash between "handle" and "mark"
 *   means your handler runs twice for that event — make it idempotent (or
 *   keep the dedupe mark in the same database transaction as your effect,
 *   which closes that window too: see `DedupeStore`).
 * - A consumer that died leaves its entries pending forever: every other
 *   consumer of the group periodically takes over entries idle for longer
 *   than `claimIdleMs` (XAUTOCLAIM) and handles them the same way. On start a
 *   consumer first re-reads its own pending entries (a restart after a crash).
 * - A handler that throws leaves its entry pending: XAUTOCLAIM retries it
 *   after `claimIdleMs`. After `maxDeliveries` attempts it is parked on
 *   `<stream>:<group>:dead` (with the reason) and acknowledged, so one bad
 *   event never blocks the group. An entry that cannot be decoded is parked
 *   at once; an event type this code does not know (the service added one)
 *   is acknowledged and skipped.
 *
 * Ordering: the events of one order are on the stream in version order, and
 * one consumer reading new entries (">") gets them in that order. But a group
 * with several consumers splits the stream between them, so two events of one
 * order can be handled at the same time by two processes, and a redelivered
 * (claimed or retried) event comes late, after newer ones. If your handling
 * depends on order, either
 *   - apply an event only when its `version` is newer than what you stored
 *     for that order (every event carries the whole order after the change,
 *     so "newest version wins" is usually all you need), or
 *   - run one consumer per group and, if you want parallelism inside it,
 *     shard by `subject` (the order id): one worker per shard, so the events
 *     of one order are handled one after another.
 */
import { fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import type { Redis } from "ioredis";
// Generated from proto/orders/v1/order_events.proto (`buf generate`); in your
// repository, generate the same from the published proto.
import {
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderDeletedSchema,
  OrderPaymentReportedSchema,
  OrderRefundDueSchema,
  OrderShipmentChangedSchema,
  OrderShippingInfoChangedSchema,
  OrderStatusChangedSchema,
  OrderUnshippedCancelledSchema,
  type OrderCancelled,
  type OrderCreated,
  type OrderDeleted,
  type OrderPaymentReported,
  type OrderRefundDue,
  type OrderShipmentChanged,
  type OrderShippingInfoChanged,
  type OrderStatusChanged,
  type OrderUnshippedCancelled,
} from "../../gen/orders/v1/order_events_pb.js";

/** The event messages; `switch (event.data.$typeName)` narrows to one. */
export type OrderEventData =
  | OrderCreated
  | OrderStatusChanged
  | OrderShippingInfoChanged
  | OrderCancelled
  | OrderDeleted
  | OrderPaymentReported
  | OrderRefundDue
  | OrderShipmentChanged
  | OrderUnshippedCancelled;

const SCHEMAS = new Map<string, DescMessage>(
  [
    OrderCreatedSchema,
    OrderStatusChangedSchema,
    OrderShippingInfoChangedSchema,
    OrderCancelledSchema,
    OrderDeletedSchema,
    OrderPaymentReportedSchema,
    OrderRefundDueSchema,
    OrderShipmentChangedSchema,
    OrderUnshippedCancelledSchema,
  ].map((s) => [s.typeName, s]),
);

/** One event: the CloudEvents attributes, the decoded data, and how it reached you. */
export interface OrderEvent {
  /** The CloudEvents id (a UUID): what you dedupe by. */
  readonly id: string;
  /** The message's full name, e.g. "orders.v1.OrderCreated". */
  readonly type: OrderEventData["$typeName"];
  readonly source: string;
  /** The order id. */
  readonly subject: string;
  /** When the change committed. */
  readonly time: Date;
  /** The order's version after the change (the `orderversion` extension). */
  readonly version: number | undefined;
  /** W3C trace context of the call that made the change, when it was traced. */
  readonly traceparent: string | undefined;
  readonly data: OrderEventData;
  /** The stream entry id ("1718000000000-0"). */
  readonly entryId: string;
  /** True when this entry was delivered before (own pending entries after a restart, or taken over by XAUTOCLAIM). */
  readonly redelivered: boolean;
}

/**
 * Remembers which events were handled. `markProcessed` runs after your
 * handler succeeded and before XACK. If your handler writes to a database,
 * the strongest store is a table there (INSERT the event id in the same
 * transaction as the effect; a unique violation means "seen"), which makes the
 * effect exactly once; `redisDedupe` below is the simple default.
 */
export interface DedupeStore {
  /** True when some consumer of the group handled the event already. */
  seen(eventId: string): Promise<boolean>;
  markProcessed(eventId: string): Promise<void>;
}

/**
 * Dedupe on Redis: one key `<keyPrefix><group>:<event id>`, written with
 * `SET ... NX EX ttl` after the handler succeeded. The TTL must outlive any
 * repeat you expect: redeliveries come within minutes (claimIdleMs), a
 * republished event within the service's relay retries; a day is plenty and
 * costs ~100 bytes per event of the last day.
 */
export function redisDedupe(redis: Redis, o: { group: string; ttlSeconds?: number; keyPrefix?: string }): DedupeStore {
  const key = (id: string) => `${o.keyPrefix ?? "eventdedupe:"}${o.group}:${id}`;
  return {
    seen: async (id) => (await redis.exists(key(id))) === 1,
    markProcessed: async (id) => void (await redis.set(key(id), "1", "EX", o.ttlSeconds ?? 86_400, "NX")),
  };
}

export interface OrderEventsConsumerOptions {
  /** For XACK, XAUTOCLAIM, XGROUP and the default dedupe; blocking reads get their own connection (a duplicate). */
  readonly redis: Redis;
  /** The stream key: `<EVENTS_REDIS_PREFIX>orders`, by default "events:orders". */
  readonly stream: string;
  /** Your service: every process of it uses the same group. */
  readonly group: string;
  /** This process: unique within the group and stable across restarts (so it finds its own pending entries). */
  readonly consumer: string;
  /** Your code. Throw to have the event retried (after claimIdleMs). */
  readonly handle: (event: OrderEvent) => Promise<void> | void;
  /** Default: `redisDedupe(redis, { group })`. */
  readonly dedupe?: DedupeStore;
  /** Where a group created now starts: "$" only events published from now on (default), "0" every event the stream still holds. */
  readonly startFrom?: "$" | "0";
  /** An entry pending this long is taken over (XAUTOCLAIM); keep it well above your slowest handler (default 60 s). */
  readonly claimIdleMs?: number;
  /** How often to look for such entries (default claimIdleMs / 2). */
  readonly claimEveryMs?: number;
  /** How long one XREADGROUP waits for new entries (default 5 s); also how late a stop or a claim check can be. */
  readonly blockMs?: number;
  /** Entries per read or claim (default 50). */
  readonly batch?: number;
  /** Deliveries of a failing entry before it is parked on `<stream>:<group>:dead` (default 10). */
  readonly maxDeliveries?: number;
  readonly warn?: (message: string) => void;
}

export interface ConsumerStats {
  /** Entries received (new, own pending, claimed). */
  delivered: number;
  /** Of those, taken over from another consumer (or from self) by XAUTOCLAIM. */
  claimed: number;
  /** Handled and acknowledged. */
  handled: number;
  /** Acknowledged without handling: the dedupe store had them. */
  duplicates: number;
  /** Handler (or dedupe mark) failures; the entry stays pending. */
  failed: number;
  /** Unknown event types, acknowledged. */
  skipped: number;
  /** Parked on the dead-letter stream. */
  deadLettered: number;
}

export interface OrderEventsConsumer {
  /** Runs until `signal` aborts; a stop waits for the event being handled, never for a whole batch. */
  run(signal: AbortSignal): Promise<void>;
  readonly stats: Readonly<ConsumerStats>;
}

type Entry = [id: string, fields: string[] | null];

/** An entry's flat [field, value, ...] list as an object. */
function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

/** The event in an entry; undefined for a type this code does not know; throws when it is malformed. */
export function decodeEntry(entryId: string, flat: readonly string[], redelivered = false): OrderEvent | undefined {
  const f = fieldsOf(flat);
  const schema = SCHEMAS.get(f.type);
  if (!schema) return undefined;
  if (!f.id || !f.subject || f.data === undefined) throw new Error("an attribute (id, subject or data) is missing");
  // ignoreUnknownFields: a newer service may add fields; old consumers must keep working.
  const data = fromJson(schema, JSON.parse(f.data) as JsonValue, { ignoreUnknownFields: true }) as OrderEventData;
  return {
    id: f.id,
    type: data.$typeName,
    source: f.source,
    subject: f.subject,
    time: new Date(f.time),
    version: f.orderversion ? Number(f.orderversion) : undefined,
    traceparent: f.traceparent,
    data,
    entryId,
    redelivered,
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => (clearTimeout(t), signal.removeEventListener("abort", done), resolve());
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

export function createOrderEventsConsumer(o: OrderEventsConsumerOptions): OrderEventsConsumer {
  const { redis, stream, group, consumer } = o;
  const dedupe = o.dedupe ?? redisDedupe(redis, { group });
  const claimIdleMs = o.claimIdleMs ?? 60_000;
  const claimEveryMs = o.claimEveryMs ?? claimIdleMs / 2;
  const blockMs = o.blockMs ?? 5000;
  const batch = o.batch ?? 50;
  const maxDeliveries = o.maxDeliveries ?? 10;
  const warn = o.warn ?? ((m: string) => console.warn(m));
  const stats: ConsumerStats = { delivered: 0, claimed: 0, handled: 0, duplicates: 0, failed: 0, skipped: 0, deadLettered: 0 };

  const ack = (entryId: string) => redis.xack(stream, group, entryId);

  async function ensureGroup(): Promise<void> {
    try {
      await redis.xgroup("CREATE", stream, group, o.startFrom ?? "$", "MKSTREAM");
    } catch (err) {
      if (!message(err).startsWith("BUSYGROUP")) throw err; // BUSYGROUP: it exists already
    }
  }

  /** Copies the entry to the dead-letter stream with the reason, then acknowledges it. */
  async function park(entryId: string, flat: readonly string[], reason: string): Promise<void> {
    await redis.xadd(`${stream}:${group}:dead`, "*", ...flat, "entry", entryId, "reason", reason);
    await ack(entryId);
    stats.deadLettered++;
    warn(`events: parked entry ${entryId} on ${stream}:${group}:dead: ${reason}`);
  }

  async function processEntry(entryId: string, flat: string[] | null, redelivered: boolean): Promise<void> {
    stats.delivered++;
    if (flat === null) return void (await ack(entryId)); // trimmed away while pending (Redis < 7 reports these)
    let event: OrderEvent | undefined;
    try {
      event = decodeEntry(entryId, flat, redelivered);
    } catch (err) {
      return park(entryId, flat, `undecodable: ${message(err)}`); // retrying will not help
    }
    if (!event) {
      stats.skipped++;
      return void (await ack(entryId));
    }
    if (await dedupe.seen(event.id)) {
      stats.duplicates++;
      return void (await ack(entryId));
    }
    try {
      await o.handle(event);
      await dedupe.markProcessed(event.id); // before XACK: a crash after this line is caught by `seen`
    } catch (err) {
      stats.failed++;
      // Left pending: XAUTOCLAIM hands it out again after claimIdleMs. XPENDING tells how often it was delivered.
      const [[, , , deliveries] = []] = (await redis.xpending(stream, group, entryId, entryId, 1)) as [string, string, number, number][];
      if ((deliveries ?? 0) >= maxDeliveries) await park(entryId, flat, `handler failed ${deliveries} times: ${message(err)}`);
      else warn(`events: ${event.type} ${event.id} (order ${event.subject}) failed (delivery ${deliveries ?? "?"}): ${message(err)}`);
      return;
    }
    stats.handled++;
    await ack(entryId);
  }

  /** XAUTOCLAIM: takes over entries pending longer than claimIdleMs (a dead or stuck consumer's, or our own failures). */
  async function claimStuck(signal: AbortSignal): Promise<void> {
    let cursor = "0-0";
    do {
      const [next, entries] = (await redis.xautoclaim(stream, group, consumer, claimIdleMs, cursor, "COUNT", batch)) as [string, Entry[], string[]?];
      for (const [id, flat] of entries) {
        if (signal.aborted) return; // the rest stays pending with us; it is claimable again after claimIdleMs
        stats.claimed++;
        await processEntry(id, flat, true);
      }
      cursor = next;
    } while (cursor !== "0-0" && !signal.aborted);
  }

  async function run(signal: AbortSignal): Promise<void> {
    // Blocking reads on their own connection (RESP2), so they never hold up XACK and friends;
    // aborting closes it, which ends a read in progress at once.
    // (commandTimeout: a read on a half-open TCP connection fails instead of hanging.)
    const reader = redis.duplicate({ protocol: 2, lazyConnect: true, enableOfflineQueue: true, commandTimeout: blockMs + 10_000 });
    reader.on("error", () => undefined); // reads fail and are retried below; ioredis reconnects
    const stop = () => reader.disconnect();
    signal.addEventListener("abort", stop, { once: true });
    // Own pending entries first ("0", then onwards from the last one seen), then new ones (">").
    let cursor: string | undefined = "0";
    let lastClaim = 0;
    let groupReady = false;
    try {
      while (!signal.aborted) {
        try {
          if (!groupReady) groupReady = (await ensureGroup(), true);
          if (Date.now() - lastClaim >= claimEveryMs) {
            lastClaim = Date.now();
            await claimStuck(signal);
          }
          const fromPel = cursor !== undefined;
          const reply = (await reader.xreadgroup("GROUP", group, consumer, "COUNT", batch, "BLOCK", blockMs, "STREAMS", stream, cursor ?? ">")) as
            | [string, Entry[]][]
            | null;
          const entries = reply?.[0]?.[1] ?? [];
          if (fromPel) cursor = entries.length > 0 ? entries[entries.length - 1][0] : undefined;
          for (const [id, flat] of entries) {
            if (signal.aborted) break; // unhandled entries stay pending: re-read on restart, or claimed by others
            await processEntry(id, flat, fromPel);
          }
        } catch (err) {
          if (signal.aborted) break;
          if (message(err).startsWith("NOGROUP")) groupReady = false; // the stream or the group was deleted: create it again
          else warn(`events: ${stream}: ${message(err)}; retrying in 1 s`); // Redis unreachable, most likely
          cursor = "0"; // a read may have been delivered but lost: look at our own pending entries again
          await sleep(1000, signal);
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      reader.disconnect();
    }
  }

  return { run, stats };
}
