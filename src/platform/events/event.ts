/**
 * Events as the relay moves them (README "Events"): an outbox row, the
 * CloudEvents 1.0 envelope it is published in, and the small interface every
 * broker adapter implements (Redis Streams: redis-publisher.ts; NATS
 * JetStream: nats-publisher.ts).
 */

/** One outbox row, as the relay claims it. */
export interface OutboxEvent {
  /** The row's id: publishing order (per aggregate it is version order). */
  readonly position: number;
  /** The CloudEvents `id` (a UUID) consumers dedupe by. */
  readonly id: string;
  readonly aggregateType: string;
  /** The CloudEvents `subject`: the order (or product, reservation) id. */
  readonly aggregateId: string;
  /** The aggregate's version after the change. */
  readonly version: number | null;
  /** The CloudEvents `type`: the event message's full name, e.g. "orders.v1.OrderCreated". */
  readonly type: string;
  /** When the change committed. */
  readonly time: Date;
  /** The event message in protobuf JSON (the CloudEvents `data`). */
  readonly data: string;
  /** W3C trace context of the call that made the change. */
  readonly traceparent: string | null;
  /** Failed publish attempts so far. */
  readonly attempts: number;
}

/** The CloudEvents attributes of an event, as strings (Redis fields, NATS `ce-` headers). */
export interface CloudEventAttributes {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: "application/json";
  /** Extension: the aggregate's version after the change (absent when unknown). */
  readonly orderversion?: string;
  /** Extension (distributed tracing): the W3C trace context. */
  readonly traceparent?: string;
}

/** The envelope's attributes of `e`, published by `source` (e.g. "order-service"). */
export function cloudEventAttributes(e: OutboxEvent, source: string): CloudEventAttributes {
  return {
    specversion: "1.0",
    id: e.id,
    source,
    type: e.type,
    subject: e.aggregateId,
    time: e.time.toISOString(),
    datacontenttype: "application/json",
    ...(e.version === null ? {} : { orderversion: String(e.version) }),
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
  };
}

/**
 * A broker adapter. `publish` adds the events to the stream in the order
 * given, or throws: the broker could not be reached or refused the batch
 * (the relay backs off and retries the same events later; some may have been
 * added already — at least once). The one refusal that belongs to an event
 * rather than to the broker, a message over the broker's size limit, is
 * known before sending: the relay checks `maxEventBytes` and never hands
 * such an event over, so an aggregate's later events never overtake it.
 */
export interface EventPublisher {
  readonly broker: "redis" | "nats";
  /** The largest event (data and attributes) the broker takes. */
  readonly maxEventBytes: number;
  /** Where events of `stream` go, for logs and the CLI ("events:orders", "ORDERS"). */
  describe(stream: string): string;
  publish(stream: string, source: string, events: readonly OutboxEvent[]): Promise<void>;
  /**
   * After a crash or a failed publish the relay cannot know which events of
   * the batch reached the broker: it asks here, and marks those without
   * adding them again. (JetStream dedupes by Nats-Msg-Id itself; Redis looks
   * at the stream's tail.)
   */
  alreadyPublished(stream: string, candidates: readonly OutboxEvent[]): Promise<ReadonlySet<string>>;
  /** Puts an event the relay gave up on in the stream's dead letters, with why. */
  deadLetter(stream: string, source: string, event: OutboxEvent, reason: string): Promise<void>;
  close(): Promise<void>;
}

/** An event's size as published: its data and attributes. */
export function eventBytes(e: OutboxEvent, source: string): number {
  let n = Buffer.byteLength(e.data);
  for (const v of Object.values(cloudEventAttributes(e, source))) n += Buffer.byteLength(v) + 16;
  return n;
}
