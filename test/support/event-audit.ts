/**
 * Checks what reached a Redis stream against the outbox it was published
 * from, by the delivery contract (proto/orders/v1/order_events.proto):
 * every outbox row's event is on the stream (none lost), every entry is an
 * outbox row's event with that row's type, subject, version and data (none
 * made up), each order's events come in version order once repeats are
 * dropped, and a repeat is an exact copy of the entry it repeats (at least
 * once: the same event again, never a different one under its id). Repeats
 * are counted, not refused.
 *
 * `drainedSnapshot` waits until the relay has published everything and
 * returns the rows as they were then: read it BEFORE the stream, and the
 * rows to match entries against AFTER it, so a row a background job writes
 * in between is neither missed nor called foreign.
 */
import { isDeepStrictEqual } from "node:util";
import { asc, sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import { outbox } from "../../src/orders/infra/schema.js";
import type { Db } from "../../src/platform/db.js";
import { fieldsOf } from "../../src/platform/events/redis-publisher.js";

export interface StreamEntry {
  readonly entryId: string;
  readonly fields: Record<string, string>;
}

export interface OutboxRow {
  readonly id: number;
  readonly eventId: string;
  readonly aggregateId: string;
  readonly version: number | null;
  readonly eventType: string;
  readonly payload: unknown;
  readonly createTime: Date;
  readonly publishTime: Date | null;
  readonly deadTime: Date | null;
}

/** Every entry of the stream `key`, oldest first. */
export async function readStream(redis: Redis, key: string): Promise<StreamEntry[]> {
  const out: StreamEntry[] = [];
  const page = 5000;
  for (let from = "-"; ; ) {
    const got = (await redis.xrange(key, from, "+", "COUNT", page)) as [string, string[]][];
    for (const [entryId, flat] of got) out.push({ entryId, fields: fieldsOf(flat) });
    if (got.length < page) return out;
    from = `(${got[got.length - 1][0]}`;
  }
}

export function outboxRows(db: Db): Promise<OutboxRow[]> {
  return db
    .select({
      id: outbox.id,
      eventId: outbox.eventId,
      aggregateId: outbox.aggregateId,
      version: outbox.version,
      eventType: outbox.eventType,
      payload: outbox.payload,
      createTime: outbox.createTime,
      publishTime: outbox.publishTime,
      deadTime: outbox.deadTime,
    })
    .from(outbox)
    .orderBy(asc(outbox.id));
}

/** Rows neither published nor dead-lettered. */
export async function unpublishedCount(db: Db): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(outbox)
    .where(sql`${outbox.publishTime} is null and ${outbox.deadTime} is null`);
  return Number(r.n);
}

/** Waits until every row is published (none waiting) and returns the rows of that moment. */
export async function drainedSnapshot(db: Db, timeoutMs: number): Promise<{ rows: OutboxRow[]; waitedMs: number }> {
  const start = Date.now();
  for (;;) {
    const rows = await outboxRows(db);
    if (rows.every((r) => r.publishTime !== null || r.deadTime !== null)) return { rows, waitedMs: Date.now() - start };
    if (Date.now() - start > timeoutMs) {
      const waiting = rows.filter((r) => r.publishTime === null && r.deadTime === null).length;
      throw new Error(`the outbox did not drain within ${timeoutMs} ms: ${waiting} of ${rows.length} rows unpublished`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Audit {
  /** Stream entries, repeats included. */
  readonly entries: number;
  /** Distinct events (event ids) on the stream. */
  readonly events: number;
  /** Entries repeating an event already on the stream, exactly. */
  readonly duplicates: number;
  /** Events of rows published by the snapshot that are not on the stream. */
  readonly lost: string[];
  /** Rows of the snapshot dead-lettered (none is expected: no event here is too large). */
  readonly dead: string[];
  /** Entries whose event id is no outbox row's. */
  readonly foreign: string[];
  /** Entries that differ from their row (type, subject, version, time, data). */
  readonly mismatched: string[];
  /** Repeats that differ from the entry they repeat. */
  readonly badDuplicates: string[];
  /** An order's event that came after one of a higher or equal version (repeats dropped). */
  readonly outOfOrder: string[];
}

/**
 * `published`: the rows of a drained snapshot (drainedSnapshot), read before
 * the stream; `rows`: every row, read after it.
 */
export function auditStream(published: readonly OutboxRow[], entries: readonly StreamEntry[], rows: readonly OutboxRow[]): Audit {
  const byEventId = new Map(rows.map((r) => [r.eventId, r]));
  const first = new Map<string, StreamEntry>();
  const lastVersion = new Map<string, number>();
  const foreign: string[] = [];
  const mismatched: string[] = [];
  const badDuplicates: string[] = [];
  const outOfOrder: string[] = [];
  let duplicates = 0;
  for (const entry of entries) {
    const { id, subject } = entry.fields;
    const seen = first.get(id);
    if (seen) {
      duplicates++;
      if (!isDeepStrictEqual(seen.fields, entry.fields)) badDuplicates.push(`${id} at ${entry.entryId} differs from ${seen.entryId}`);
      continue;
    }
    first.set(id, entry);
    const row = byEventId.get(id);
    if (!row) {
      foreign.push(`${id} at ${entry.entryId}`);
      continue;
    }
    const problem = mismatch(row, entry.fields);
    if (problem) mismatched.push(`${id} at ${entry.entryId}: ${problem}`);
    const version = Number(entry.fields.orderversion);
    const before = lastVersion.get(subject);
    if (before !== undefined && version <= before) outOfOrder.push(`order ${subject}: version ${version} at ${entry.entryId} after version ${before}`);
    lastVersion.set(subject, Math.max(version, before ?? 0));
  }
  return {
    entries: entries.length,
    events: first.size,
    duplicates,
    lost: published.filter((r) => r.deadTime === null && !first.has(r.eventId)).map((r) => `${r.eventId} (row ${r.id}, order ${r.aggregateId} v${r.version})`),
    dead: published.filter((r) => r.deadTime !== null).map((r) => r.eventId),
    foreign,
    mismatched,
    badDuplicates,
    outOfOrder,
  };
}

function mismatch(row: OutboxRow, f: Record<string, string>): string | undefined {
  if (f.type !== row.eventType) return `type ${f.type}, row ${row.eventType}`;
  if (f.subject !== row.aggregateId) return `subject ${f.subject}, row ${row.aggregateId}`;
  if (f.orderversion !== String(row.version)) return `version ${f.orderversion}, row ${row.version}`;
  if (Math.abs(Date.parse(f.time) - row.createTime.getTime()) > 1) return `time ${f.time}, row ${row.createTime.toISOString()}`;
  if (!isDeepStrictEqual(JSON.parse(f.data), row.payload)) return "data differs from the row's payload";
  return undefined;
}
