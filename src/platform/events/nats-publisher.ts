/**
 * Events on NATS JetStream (README "Events"). One stream per aggregate
 * stream name: "orders" → JetStream stream `ORDERS` on subjects `orders.>`.
 * An event's subject is `<stream>.<type without its leading "<stream>.">`:
 * type "orders.v1.OrderCreated" → subject "orders.v1.OrderCreated" (the
 * type itself), a type outside the stream's package → `<stream>.<type>`.
 * CloudEvents binary mode: the attributes are `ce-*` headers,
 * `datacontenttype` is `content-type`, the body is `data`, and
 * `Nats-Msg-Id` is the event id. Dead letters go to their own stream,
 * `ORDERS_DEAD` on `orders_dead.>` (same subject tail), with a `reason`
 * header, so consumers of `orders.>` never see them. `streamPrefix`
 * (EVENTS_NATS_PREFIX) goes in front of both names: "t1_" → `T1_ORDERS`,
 * `t1_orders.>`.
 *
 * - Streams are created when missing (file storage, `replicas` copies,
 *   limits retention with `maxAge`/`maxMsgs`, the duplicate window), never
 *   changed or deleted: an existing stream's settings are the operator's.
 * - A batch is pipelined on the one connection, in order, and every PubAck
 *   awaited; any error fails the batch. Pipelining alone could reorder an
 *   aggregate's events: if one message is lost (a stream leader dies, its
 *   successor is elected) and the next ones land, the retry would store the
 *   lost one after them. So each message but a batch's first carries
 *   `Nats-Expected-Last-Msg-Id` = the previous event's id, and the stream
 *   refuses it unless that one is the stream's last: after a gap nothing
 *   lands. (The relay is the stream's only writer, its leader lock sees to
 *   that.) After a failed batch, the next one goes one message at a time,
 *   each ack awaited, while the acks say "duplicate" (the part stored
 *   before: a duplicate does not move the stream's last id, so a chain
 *   through it would be refused), and pipelined again from the first event
 *   stored anew.
 * - Repeats are no-ops: JetStream drops a message whose `Nats-Msg-Id` it
 *   stored within the duplicate window (default 2 minutes) and acks it with
 *   `duplicate: true` and the first copy's sequence. So `alreadyPublished`
 *   answers "none" and the relay simply publishes its batch again after a
 *   failure or a takeover; only a relay that crashed after publishing and
 *   was replaced more than the window later adds copies (at least once:
 *   consumers dedupe by id). A duplicate ack without a sequence is no proof
 *   of storage (nats-server 2.9 keeps the id of a proposal lost in a leader
 *   change): the event is published again without `Nats-Msg-Id`.
 * - The connection reconnects forever (backoff to 2 s) and never throws at
 *   construction; while it is down `publish` throws at once (nothing is
 *   queued in the client: the events wait in the outbox), and a PubAck not
 *   back within `requestTimeoutMs` fails the batch, so the relay backs off.
 */
import {
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type StreamConfig,
} from "@nats-io/jetstream";
import { connect, headers, nanos, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { atMostEvery } from "../at-most-every.js";
import { cloudEventAttributes, type EventPublisher, type OutboxEvent } from "./event.js";

export interface NatsPublisherOptions {
  /** Seed servers (NATS_URL split by comma); the client learns the rest of a cluster. */
  readonly servers: readonly string[];
  /** Copies of each stream the publisher creates (EVENTS_NATS_REPLICAS). */
  readonly replicas: number;
  readonly logger: Logger;
  /** In front of stream names and subjects (EVENTS_NATS_PREFIX); default none. */
  readonly streamPrefix?: string;
  /** JetStream's dedupe window for `Nats-Msg-Id`; default 2 minutes. */
  readonly duplicateWindowMs?: number;
  /** Created streams keep events this long at most; default 7 days. */
  readonly maxAgeMs?: number;
  /** Created streams keep this many events at most (oldest dropped first); default 10 million. */
  readonly maxMsgs?: number;
  /** How long a PubAck or a stream request may take; default 3 s. */
  readonly requestTimeoutMs?: number;
}

/** Where events of aggregate stream `stream` go on JetStream. */
export interface NatsNames {
  /** The JetStream stream: "ORDERS". */
  readonly stream: string;
  /** Its subjects' first token: "orders" (subjects "orders.>"). */
  readonly root: string;
  readonly deadStream: string;
  readonly deadRoot: string;
}

export function natsNames(stream: string, prefix = ""): NatsNames {
  const root = `${prefix}${stream}`;
  return { stream: root.toUpperCase(), root, deadStream: `${root.toUpperCase()}_DEAD`, deadRoot: `${root}_dead` };
}

/** The subject tail of an event type: "orders.v1.OrderCreated" on stream "orders" → "v1.OrderCreated". */
export function subjectTail(stream: string, type: string): string {
  return type.startsWith(`${stream}.`) ? type.slice(stream.length + 1) : type;
}

/** The subject an event of `type` is published on: "orders.v1.OrderCreated". */
export function subjectOf(stream: string, type: string, prefix = ""): string {
  return `${natsNames(stream, prefix).root}.${subjectTail(stream, type)}`;
}

/** The CloudEvents binary-mode headers of `e` (`ce-*`, `content-type`). */
export function cloudEventHeaders(e: OutboxEvent, source: string): MsgHdrs {
  const h = headers();
  for (const [k, v] of Object.entries(cloudEventAttributes(e, source))) {
    if (k === "datacontenttype") h.set("content-type", v);
    else h.set(`ce-${k}`, v);
  }
  return h;
}

/** The CloudEvents attributes of a message's headers (inverse of `cloudEventHeaders`). */
export function attributesOf(h: MsgHdrs | undefined): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [k, values] of h ?? []) {
    const key = k.toLowerCase();
    if (key.startsWith("ce-")) attrs[key.slice(3)] = values[0] ?? "";
    else if (key === "content-type") attrs.datacontenttype = values[0] ?? "";
  }
  return attrs;
}

/** Room left in a message for headers beyond what `eventBytes` counts (names, Nats-* headers, framing). */
const HEADER_ROOM = 1024;
/** NATS's default max_payload, until the server says otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Messages pipelined before their acks are awaited. */
const WINDOW = 500;

export function createNatsPublisher(o: NatsPublisherOptions): EventPublisher & { connection(): NatsConnection | undefined } {
  const prefix = o.streamPrefix ?? "";
  const timeout = o.requestTimeoutMs ?? 3000;
  const servers = o.servers.join(",");
  const noticeDown = atMostEvery(30_000, (why: string) => o.logger.warn({ nats: servers, error: why }, "events: NATS unreachable; retrying"));

  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let connected = false;
  let closed = false;
  let careful = false; // after a failed batch: one message at a time
  const ensured = new Map<string, Promise<void>>();
  let wakeConnecting: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeConnecting = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  // The first connection: retried forever with backoff; the client then reconnects by itself.
  let reconnectAttempt = 0;
  const backoff = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000) + Math.floor(Math.random() * 100);
  const connecting = (async () => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        const c = await connect({
          servers: [...o.servers],
          name: "order-service events",
          maxReconnectAttempts: -1,
          reconnectDelayHandler: () => backoff(reconnectAttempt++),
          timeout: Math.min(timeout, 2000),
          pingInterval: 10_000,
          maxPingOut: 2,
        });
        if (closed) {
          await c.close();
          return;
        }
        nc = c;
        js = jetstream(c, { timeout });
        jsm = await jetstreamManager(c, { timeout, checkAPI: false });
        connected = true;
        watch(c).catch(() => undefined);
        return;
      } catch (err) {
        noticeDown((err as Error).message);
        await pause(backoff(attempt));
      }
    }
  })();

  async function watch(c: NatsConnection): Promise<void> {
    for await (const s of c.status()) {
      if (s.type === "disconnect" || s.type === "staleConnection") {
        connected = false;
        ensured.clear(); // the stream may have been lost with the server: check again
        noticeDown(s.type);
      } else if (s.type === "reconnect") {
        connected = true;
        reconnectAttempt = 0;
        o.logger.info({ nats: s.server }, "events: NATS reconnected");
      }
    }
  }

  function ready(): { js: JetStreamClient; jsm: JetStreamManager; nc: NatsConnection } {
    if (!nc || !js || !jsm || !connected || nc.isClosed()) throw new Error(`NATS at ${servers} is not connected`);
    return { nc, js, jsm };
  }

  async function createIfMissing(m: JetStreamManager, name: string, subjects: string, cfg: Partial<StreamConfig>): Promise<void> {
    try {
      const info = await m.streams.info(name);
      if (info.config.num_replicas !== cfg.num_replicas) {
        o.logger.warn({ stream: name, replicas: info.config.num_replicas, wanted: cfg.num_replicas }, "events: the JetStream stream exists with other replicas; left as it is");
      }
      return;
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err;
    }
    try {
      await m.streams.add({ name, subjects: [subjects], storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, num_replicas: o.replicas, ...cfg });
      o.logger.info({ stream: name, subjects, replicas: o.replicas }, "events: JetStream stream created");
    } catch (err) {
      // Another instance created it first.
      if (!/already in use/i.test((err as Error).message)) throw err;
    }
  }

  function ensure(stream: string): Promise<void> {
    let p = ensured.get(stream);
    if (!p) {
      const { jsm: m } = ready();
      const n = natsNames(stream, prefix);
      p = (async () => {
        await createIfMissing(m, n.stream, `${n.root}.>`, {
          num_replicas: o.replicas,
          max_age: nanos(o.maxAgeMs ?? 7 * 24 * 3600_000),
          max_msgs: o.maxMsgs ?? 10_000_000,
          duplicate_window: nanos(o.duplicateWindowMs ?? 120_000),
        });
        await createIfMissing(m, n.deadStream, `${n.deadRoot}.>`, {
          num_replicas: o.replicas,
          max_msgs: 1_000_000,
          duplicate_window: nanos(o.duplicateWindowMs ?? 120_000),
        });
      })();
      p.catch(() => ensured.delete(stream));
      ensured.set(stream, p);
    }
    return p;
  }

  function checkAck(ack: PubAck, want: string): void {
    if (ack.stream !== want) throw new Error(`NATS stored the event in stream ${ack.stream}, not ${want}: a stream's subjects overlap ${want}'s`);
  }

  const send = (c: JetStreamClient, stream: string, source: string, e: OutboxEvent, previous?: string, withMsgId = true): Promise<PubAck> =>
    c.publish(subjectOf(stream, e.type, prefix), e.data, {
      ...(withMsgId ? { msgID: e.id } : {}),
      headers: cloudEventHeaders(e, source),
      timeout,
      ...(previous ? { expect: { lastMsgID: previous } } : {}),
    });

  /**
   * A duplicate ack names the sequence the first copy was stored at. One
   * without (sequence 0) only says a leader once took the id in (nats-server
   * 2.9 notes ids when it proposes a message, and keeps the note when the
   * proposal is lost in a leader change): the event may not be stored.
   */
  const stored = (ack: PubAck) => !ack.duplicate || ack.seq > 0;

  /** Pipelined, each message but the first expecting its predecessor as the stream's last. */
  async function publishChained(c: JetStreamClient, stream: string, source: string, events: readonly OutboxEvent[]): Promise<void> {
    const want = natsNames(stream, prefix).stream;
    let previous: string | undefined;
    for (let i = 0; i < events.length; i += WINDOW) {
      const acks = events.slice(i, i + WINDOW).map((e) => {
        const p = send(c, stream, source, e, previous);
        previous = e.id;
        return p;
      });
      const results = await Promise.allSettled(acks);
      for (const [k, r] of results.entries()) {
        if (r.status === "rejected") throw r.reason;
        checkAck(r.value, want);
        if (!stored(r.value)) throw new Error(`NATS took event ${events[i + k].id} as a duplicate of nothing stored (a lost proposal)`);
      }
    }
  }

  /**
   * After a failure: one at a time, without expectations, while the acks say
   * "duplicate" (the part of the batch stored before); from the first event
   * stored now on, chained again.
   */
  async function publishCarefully(c: JetStreamClient, stream: string, source: string, events: readonly OutboxEvent[]): Promise<void> {
    const want = natsNames(stream, prefix).stream;
    for (let i = 0; i < events.length; i++) {
      let ack = await send(c, stream, source, events[i]);
      // Not stored, and the id is blocked on that leader for the duplicate window: this copy goes without Nats-Msg-Id
      // (should the lost proposal land after all, it is in the log before this one: a repeat, which consumers drop by id).
      if (!stored(ack)) ack = await send(c, stream, source, events[i], undefined, false);
      checkAck(ack, want);
      // Everything up to here is stored: the rest goes pipelined again (its first message needs no expectation).
      if (!ack.duplicate) return publishChained(c, stream, source, events.slice(i + 1));
    }
  }

  return {
    broker: "nats",
    get maxEventBytes() {
      return (nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM;
    },
    describe: (stream) => natsNames(stream, prefix).stream,
    connection: () => nc,
    async publish(stream, source, events) {
      if (events.length === 0) return;
      try {
        await ensure(stream);
        const { js: c } = ready();
        if (careful) await publishCarefully(c, stream, source, events);
        else await publishChained(c, stream, source, events);
        careful = false;
      } catch (err) {
        careful = true;
        ensured.delete(stream);
        // No responders: no server holds the stream's leader right now (an election, or the stream is gone).
        if ((err as Error).name === "JetStreamNotEnabled") throw new Error(`no JetStream stream leader answers on ${natsNames(stream, prefix).root}.> (election in progress, or the stream is gone)`, { cause: err });
        throw err;
      }
    },
    // JetStream dedupes by Nats-Msg-Id within the duplicate window: publishing again is a no-op (PubAck.duplicate).
    async alreadyPublished() {
      return new Set<string>();
    },
    async deadLetter(stream, source, event, reason) {
      await ensure(stream);
      const { js: c } = ready();
      const n = natsNames(stream, prefix);
      const h = cloudEventHeaders(event, source);
      h.set("reason", reason);
      // The data only when it fits (an event too large for the stream is too large here too); the row keeps it.
      const data = Buffer.byteLength(event.data) > this.maxEventBytes ? "" : event.data;
      checkAck(await c.publish(`${n.deadRoot}.${subjectTail(stream, event.type)}`, data, { msgID: event.id, headers: h, timeout }), n.deadStream);
    },
    async close() {
      closed = true;
      const c = nc;
      const wasConnected = connected;
      nc = undefined;
      connected = false;
      wakeConnecting?.();
      if (c && !c.isClosed()) {
        // Drain (in-flight acks come back) unless the server is gone; never wait past the request timeout.
        if (wasConnected) await Promise.race([c.drain().catch(() => undefined), new Promise((r) => setTimeout(r, timeout).unref())]);
        if (!c.isClosed()) await c.close();
      }
      await connecting;
    },
  };
}
