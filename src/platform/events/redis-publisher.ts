/**
 * Events on Redis Streams (README "Events"). One stream per aggregate type,
 * `<prefix><stream>` (default "events:orders", "events:inventory"); each
 * event is one entry whose fields are the CloudEvents attributes and `data`
 * (event.ts). Dead letters go to `<prefix><stream>:dead` with `reason`.
 *
 * - A batch is one pipeline of XADDs in the relay's order (auto ids, so
 *   entry ids follow publishing order); any error fails the batch.
 * - Its own connection (RESP2, `protocol: 2`): nothing queues while Redis is
 *   down (the relay backs off and the events wait in the outbox), and a
 *   consumer's blocking XREAD never shares it.
 * - Trimming never drops what a consumer group still needs: at most every
 *   `trimEveryMs`, a stream longer than `maxLen` is cut to its newest
 *   `maxLen` entries, but never past the oldest entry some group has not
 *   acknowledged (its oldest pending entry) or not yet been delivered (its
 *   last-delivered id). With no group, `maxLen` alone bounds it.
 * - After a takeover the relay asks which of its first batch are already
 *   there: the stream's newest entries are read and their `id` fields
 *   compared (only the last batch of a relay that died can be unmarked).
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { redactUrl } from "../../config.js";
import { atMostEvery } from "../at-most-every.js";
import { cloudEventAttributes, type EventPublisher, type OutboxEvent } from "./event.js";

export interface RedisPublisherOptions {
  readonly url: string;
  /** Key prefix of the streams (EVENTS_REDIS_PREFIX). */
  readonly prefix: string;
  /** Entries a stream keeps, at most (EVENTS_REDIS_MAXLEN), except those a consumer group still needs. */
  readonly maxLen: number;
  readonly trimEveryMs?: number;
  readonly logger: Logger;
}

export function streamFields(e: OutboxEvent, source: string): string[] {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(cloudEventAttributes(e, source))) fields.push(k, v);
  fields.push("data", e.data);
  return fields;
}

/** An entry's fields as an object. */
export function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

/** The smallest entry id greater than `id` ("5-3" → "5-4"). */
export function nextId(id: string): string {
  const [ms, seq] = id.split("-");
  return `${ms}-${BigInt(seq ?? "0") + 1n}`;
}

/** -1, 0 or 1 as stream id `a` is before, equal to or after `b`. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if ((as ?? 0n) !== (bs ?? 0n)) return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
  return 0;
}

export function createRedisPublisher(o: RedisPublisherOptions): EventPublisher & { readonly client: Redis; trim(stream: string): Promise<void> } {
  const client = new Redis(o.url, {
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: 5000,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
  });
  const where = redactUrl(o.url);
  const noticeError = atMostEvery(30_000, (err: Error) => o.logger.warn({ redis: where, error: err.message }, "events: Redis unreachable; retrying"));
  client.on("error", noticeError);
  const key = (stream: string) => `${o.prefix}${stream}`;
  const lastTrim = new Map<string, number>();
  const trimEveryMs = o.trimEveryMs ?? 10_000;

  const ready = async () => {
    if (client.status === "wait") await client.connect().catch(() => undefined);
    if (client.status !== "ready") throw new Error(`Redis at ${where} is not reachable (${client.status})`);
  };

  /** The oldest entry id any consumer group of `k` still needs; undefined when it has no group. */
  async function neededFrom(k: string): Promise<string | undefined> {
    const groups = (await client.xinfo("GROUPS", k)) as unknown[][];
    let floor: string | undefined;
    for (const g of groups) {
      const info = fieldsOf(g.map(String));
      let needed = nextId(info["last-delivered-id"]);
      if (Number(info.pending) > 0) {
        const [, oldest] = (await client.xpending(k, info.name)) as [number, string | null];
        if (oldest && compareIds(oldest, needed) < 0) needed = oldest;
      }
      if (floor === undefined || compareIds(needed, floor) < 0) floor = needed;
    }
    return floor;
  }

  async function trim(stream: string): Promise<void> {
    const k = key(stream);
    const excess = (await client.xlen(k)) - o.maxLen;
    if (excess <= 0) return;
    const oldest = (await client.xrange(k, "-", "+", "COUNT", Math.min(excess, 100_000))) as [string, string[]][];
    if (oldest.length === 0) return;
    let cut = nextId(oldest[oldest.length - 1][0]);
    const needed = await neededFrom(k);
    if (needed !== undefined && compareIds(needed, cut) < 0) cut = needed;
    await client.xtrim(k, "MINID", cut);
  }

  return {
    broker: "redis",
    client,
    // Redis takes bulk strings up to proto-max-bulk-len (512 MB); a stream entry far smaller is still sane.
    maxEventBytes: 8 * 1024 * 1024,
    describe: key,
    async publish(stream, source, events) {
      await ready();
      const k = key(stream);
      const pipeline = client.pipeline();
      for (const e of events) pipeline.xadd(k, "*", ...streamFields(e, source));
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed || results.length !== events.length) throw failed?.[0] ?? new Error("Redis answered part of the pipeline");
      const now = Date.now();
      if (now - (lastTrim.get(stream) ?? 0) >= trimEveryMs) {
        lastTrim.set(stream, now);
        await trim(stream).catch((err: unknown) => o.logger.warn({ err, stream: k }, "events: trimming the stream failed"));
      }
    },
    async alreadyPublished(stream, candidates) {
      await ready();
      const wanted = new Set(candidates.map((e) => e.id));
      const there = new Set<string>();
      const tail = (await client.xrevrange(key(stream), "+", "-", "COUNT", candidates.length + 100)) as [string, string[]][];
      for (const [, fields] of tail) {
        const id = fieldsOf(fields).id;
        if (id && wanted.has(id)) there.add(id);
      }
      return there;
    },
    async deadLetter(stream, source, event, reason) {
      await ready();
      // The data only when it fits (an event too large for the stream is too large here too); the row keeps it.
      const fields = streamFields(event, source);
      if (Buffer.byteLength(event.data) > this.maxEventBytes) fields.splice(fields.length - 2, 2);
      await client.xadd(`${key(stream)}:dead`, "*", ...fields, "reason", reason);
    },
    trim,
    async close() {
      client.disconnect();
    },
  };
}
