/**
 * The relay's view of one service's outbox table (orders.outbox,
 * inventory.outbox: the same columns, migrations/0005). The service passes
 * its Drizzle table; every statement is prepared once (statements.ts).
 *
 * Claiming is by id order among rows neither published nor dead, with no
 * cursor: a row that commits late (a lower id than rows already published)
 * is simply found by the next claim, never skipped. Per aggregate, id order
 * is version order, because an aggregate's next event is inserted only after
 * its previous one committed (the writer locks the row or checks its
 * version) — so a batch in id order publishes each order's events in order.
 * One relay claims at a time (the leader of its lock), so a claim takes no
 * row lock.
 */
import { sql, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Db } from "../db.js";
import { prepareStatement } from "../statements.js";
import type { OutboxEvent } from "./event.js";

export interface DeadLetter {
  readonly position: number;
  readonly id: string;
  readonly type: string;
  readonly aggregateId: string;
  readonly version: number | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deadTime: Date;
}

export interface OutboxBacklog {
  /** Rows not yet published (dead letters apart). */
  readonly unpublished: number;
  /** Age of the oldest of them, in ms (0 when none). */
  readonly oldestMs: number;
  readonly deadLetters: number;
}

export interface OutboxStore {
  /** The table, for logs ("orders.outbox"). */
  readonly table: string;
  /** Up to `limit` rows to publish, in id order. */
  claim(limit: number): Promise<OutboxEvent[]>;
  /**
   * Up to `limit` rows after `position`, published or not, in id order: what
   * `npm run events -- tail` shows without a broker. A viewer's read: a row
   * that commits after a higher id was read is not shown (the relay, which
   * never uses a cursor, still publishes it).
   */
  after(position: number, limit: number): Promise<OutboxEvent[]>;
  markPublished(positions: readonly number[]): Promise<void>;
  /** One more failed attempt of a row; with `dead`, it leaves the queue for the dead letters. */
  recordFailure(position: number, error: string, dead: boolean): Promise<void>;
  backlog(): Promise<OutboxBacklog>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Puts a dead letter back in the queue (attempts reset); false when no such dead letter. */
  replay(eventId: string): Promise<boolean>;
  /** Deletes at most `limit` rows published before `cutoff` (retention); how many it deleted. */
  purgePublished(cutoff: Date, limit: number): Promise<number>;
}

interface Row {
  position: string | number;
  id: string;
  aggregateType: string;
  aggregateId: string;
  version: number | null;
  type: string;
  time: number | string;
  data: unknown;
  traceparent: string | null;
  attempts: number;
}

export interface OutboxStoreOptions {
  /**
   * Whether every event of this outbox carries its aggregate's version
   * (orders.outbox). There, a row without one was written before the events
   * contract (migration 0005) and is never replayed.
   */
  readonly versioned: boolean;
}

export function createOutboxStore(db: Db, table: PgTable, name: string, o: OutboxStoreOptions): OutboxStore {
  const statement = <R>(what: string, query: SQL) => prepareStatement<R>(db, `${name.replace(".", "_")}_${what}`, query);
  const p = sql.placeholder;
  const selectEvents = sql`select id as position, event_id::text as id, aggregate_type as "aggregateType",
    aggregate_id::text as "aggregateId", version, event_type as type, (extract(epoch from create_time) * 1000)::float8 as time,
    payload::text as data, traceparent, attempts from ${table}`;
  // `order by position`, never `order by id`: in ORDER BY an output column's name wins, and the output `id` is the event id (a random UUID).
  const claim = statement<Row>(
    "claim",
    sql`${selectEvents} where publish_time is null and dead_time is null order by position limit ${p("limit")}::int`,
  );
  const after = statement<Row>(
    "after",
    sql`${selectEvents} where id > ${p("after")}::bigint order by position limit ${p("limit")}::int`,
  );
  const markPublished = statement<{ id: number }>(
    "mark_published",
    sql`update ${table} set publish_time = now() where id = any(${p("ids")}::bigint[]) and publish_time is null returning id`,
  );
  const recordFailure = statement<{ id: number }>(
    "record_failure",
    sql`update ${table} set attempts = attempts + 1, last_error = left(${p("error")}, 1000),
      dead_time = case when ${p("dead")}::boolean then now() else null end
    where id = ${p("id")}::bigint returning id`,
  );
  const backlog = statement<{ unpublished: number; oldestMs: number; dead: number }>(
    "backlog",
    sql`select (select count(*) from ${table} where publish_time is null and dead_time is null)::int as unpublished,
      coalesce((select (extract(epoch from now() - min(create_time)) * 1000)::float8 from ${table}
        where publish_time is null and dead_time is null), 0) as "oldestMs",
      (select count(*) from ${table} where dead_time is not null)::int as dead`,
  );
  const deadLetters = statement<{
    position: string | number;
    id: string;
    type: string;
    aggregateId: string;
    version: number | null;
    attempts: number;
    lastError: string | null;
    deadTime: number;
  }>(
    "dead_letters",
    sql`select id as position, event_id::text as id, event_type as type, aggregate_id::text as "aggregateId", version, attempts,
      last_error as "lastError", (extract(epoch from dead_time) * 1000)::float8 as "deadTime"
    from ${table} where dead_time is not null order by position limit ${p("limit")}::int`,
  );
  const replay = statement<{ id: number }>(
    "replay",
    sql`update ${table} set dead_time = null, attempts = 0, last_error = null
    where event_id = ${p("eventId")}::uuid and dead_time is not null${o.versioned ? sql` and version is not null` : sql``} returning id`,
  );
  const purge = statement<{ n: number }>(
    "purge_published",
    sql`with gone as (
      delete from ${table} where ctid = any(array(
        select ctid from ${table} where publish_time < ${p("cutoff")}::timestamptz
        order by publish_time limit ${p("limit")}::int for update skip locked))
      returning 1)
    select count(*)::int as n from gone`,
  );
  const toEvent = (r: Row): OutboxEvent => ({
        position: Number(r.position),
        id: r.id,
        aggregateType: r.aggregateType,
        aggregateId: r.aggregateId,
        version: r.version,
        type: r.type,
        time: new Date(Number(r.time)),
        data: typeof r.data === "string" ? r.data : JSON.stringify(r.data),
    traceparent: r.traceparent,
    attempts: r.attempts,
  });
  return {
    table: name,
    claim: async (limit) => (await claim({ limit })).map(toEvent),
    after: async (position, limit) => (await after({ after: String(position), limit })).map(toEvent),
    async markPublished(positions) {
      if (positions.length > 0) await markPublished({ ids: positions.map(String) });
    },
    async recordFailure(position, error, dead) {
      await recordFailure({ id: String(position), error, dead });
    },
    async backlog() {
      const [r] = await backlog({});
      return { unpublished: r.unpublished, oldestMs: Math.max(0, Number(r.oldestMs)), deadLetters: r.dead };
    },
    async deadLetters(limit) {
      return (await deadLetters({ limit })).map((r) => ({ ...r, position: Number(r.position), deadTime: new Date(Number(r.deadTime)) }));
    },
    replay: async (eventId) => (await replay({ eventId })).length > 0,
    purgePublished: async (cutoff, limit) => Number((await purge({ cutoff: cutoff.toISOString(), limit }))[0]?.n ?? 0),
  };
}
