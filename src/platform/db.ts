/**
 * One database handle for the whole process: the `postgres` driver with a
 * pool when DATABASE_URL is set, embedded PGlite (Postgres in WASM) in a data
 * directory otherwise. Both speak the same SQL, run the same migrations, and
 * are used through the same Drizzle API.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type Postgres from "postgres";
import { setDbLimits } from "./bounded.js";
import { createPoolGate, transactionShare, type PoolGate } from "./pool-gate.js";

/** The Drizzle handle repositories receive. Transactions: `db.transaction(fn)`. */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;
export type DbKind = "postgres" | "pglite";

export interface Database {
  readonly db: Db;
  readonly kind: DbKind;
  /** Postgres: the gate every transaction passes for a pooled connection (pool-gate.ts). */
  readonly gate?: PoolGate;
  /**
   * Resolves when the database answers a trivial query. On Postgres it asks
   * over a connection of its own, so readiness does not wait behind a
   * saturated pool.
   */
  ping(): Promise<void>;
  /** Applies the committed drizzle-kit migrations in migrations/. */
  migrate(): Promise<void>;
  /**
   * LISTENs on `channel` (a plain lower-case identifier) in the background:
   * `onMessage` gets each NOTIFY payload. On Postgres the listener has its own
   * connection and re-listens after losing it (with backoff); `onLost` and
   * `onListen` bracket the time notifications may have been missed.
   * Both handles made here have it; a hand-built handle (a script) may not.
   */
  listen?(channel: string, onMessage: (payload: string) => void, events?: ListenEvents): Listener;
  /**
   * Postgres: a session-level advisory lock named `name`, on a connection of
   * its own (leader.ts). PGlite has none: one process owns its data directory.
   */
  sessionLock?(name: string, onLost: () => void): SessionLock;
  /** Also stops every listener and session lock. */
  close(): Promise<void>;
}

/** A session-level advisory lock on a dedicated connection: held until released, or until that connection (or its process) ends. */
export interface SessionLock {
  /** Takes the lock when nobody holds it; true when this session holds it now. */
  tryAcquire(): Promise<boolean>;
  /** Whether the connection that holds it still answers (false: the lock is gone with it). */
  check(): Promise<boolean>;
  readonly held: boolean;
  /** Gives the lock back and closes the connection. */
  release(): Promise<void>;
}

export interface ListenEvents {
  /** The listener is (re)established: notifications sent before now may have been missed. */
  onListen?(): void;
  /** The listening connection is gone: notifications are missed until the next `onListen`. */
  onLost?(err: unknown): void;
}

export interface Listener {
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; undefined → PGlite. */
  readonly url?: string;
  /** PGlite's data directory; undefined → in memory. */
  readonly dataDir?: string;
  readonly poolMax?: number;
  /** Longest wait for a pooled connection (DB_POOL_WAIT_MS); default 1000. */
  readonly poolWaitMs?: number;
  /** Kept back from a call's deadline by boundedTransaction (DEADLINE_MARGIN_MS); default 50. */
  readonly deadlineMarginMs?: number;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function createDatabase(opts: DatabaseOptions): Promise<Database> {
  const database = opts.url ? await createPostgres(opts.url, opts.poolMax ?? 10, opts.poolWaitMs ?? 1000) : await createPglite(opts.dataDir);
  setDbLimits(database.db, { marginMs: opts.deadlineMarginMs ?? 50, gate: database.gate });
  return database;
}

/**
 * Splits libpq's Unix-socket form, `postgres://user@localhost/db?host=/var/run/postgresql`,
 * into a URL postgres-js accepts and its `host` option (postgres-js would send an
 * unknown `host` query parameter to the server as a setting). Any other URL is
 * returned as it is. pgbench and psql read the same URL natively.
 */
export function postgresConnection(url: string): { url: string; options: { host?: string } } {
  const u = new URL(url);
  const host = u.searchParams.get("host");
  if (!host?.startsWith("/")) return { url, options: {} };
  u.searchParams.delete("host");
  return { url: u.toString(), options: { host } };
}

async function createPostgres(databaseUrl: string, poolMax: number, poolWaitMs: number): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const { url, options: connection } = postgresConnection(databaseUrl);
  const client = postgres(url, {
    ...connection,
    max: poolMax,
    onnotice: () => {},
    connect_timeout: 5,
    // Seconds before a failed connection is retried; the queries waiting on it
    // wait as long. postgres-js's default grows to 20 s, which kept calls (and
    // shutdown) hanging that long while the database was down; capped at 2 s,
    // they fail UNAVAILABLE within about that. Jittered, as the default is.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 2),
    // bigint columns come back as JS bigint (money in minor units).
    types: { bigint: postgres.BigInt },
  });
  const gate = createPoolGate({ size: poolMax, transactions: transactionShare(poolMax), waitMs: poolWaitMs });
  const db = drizzle(client) as unknown as Db;
  // Readiness asks over its own connection (as the listener listens over its own).
  const probe = postgres(url, dedicatedConnection(connection, "readiness"));
  const listeners = new Set<Listener>();
  const locks = new Set<SessionLock>();
  return {
    db,
    kind: "postgres",
    sessionLock(name, onLost) {
      const lock = sessionLockPostgres(postgres, url, connection, name, onLost, () => locks.delete(lock));
      locks.add(lock);
      return lock;
    },
    gate,
    ping: async () => {
      await probe`select 1`;
    },
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    listen(channel, onMessage, events = {}) {
      const listener = listenPostgres(postgres, url, connection, channel, onMessage, events, () => listeners.delete(listener));
      listeners.add(listener);
      return listener;
    },
    close: async () => {
      await Promise.all([...listeners].map((l) => l.close()));
      await Promise.all([...locks].map((l) => l.release()));
      await Promise.all([client.end({ timeout: 5 }), probe.end({ timeout: 1 })]);
    },
  };
}

/**
 * pg_try_advisory_lock on a dedicated connection (max 1, never idled out):
 * the lock lives as long as that session. A closed connection means the lock
 * is gone (postgres-js would reconnect on the next query, as a new session
 * without it), so `held` drops and `onLost` is called. The key is
 * hashtext(name), the same in every process.
 */
function sessionLockPostgres(
  postgres: typeof Postgres,
  url: string,
  connection: { host?: string },
  name: string,
  onLost: () => void,
  onReleased: () => void,
): SessionLock {
  let held = false;
  let released = false;
  const options = {
    ...dedicatedConnection(connection, `lock:${name}`),
    onclose: () => {
      if (!held) return;
      held = false;
      if (!released) onLost();
    },
  };
  const conn = postgres(url, options as Postgres.Options<Record<string, never>>);
  return {
    async tryAcquire() {
      if (released) return false;
      if (held) return true;
      const [row] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(hashtext(${name})) as ok`;
      held = row.ok === true;
      return held;
    },
    async check() {
      if (!held) return false;
      try {
        await conn`select 1`;
        return held;
      } catch {
        held = false;
        return false;
      }
    },
    get held() {
      return held;
    },
    async release() {
      if (released) return;
      released = true;
      onReleased();
      if (held) await conn`select pg_advisory_unlock(hashtext(${name}))`.catch(() => undefined);
      held = false;
      await conn.end({ timeout: 1 });
    },
  };
}

const CHANNEL = /^[a-z_][a-z0-9_]*$/;

/** Options of a single long-lived connection of its own (readiness, LISTEN): never idled out or recycled. */
function dedicatedConnection(connection: { host?: string }, applicationName: string) {
  return {
    ...connection,
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: applicationName },
  };
}

/**
 * One dedicated connection (max 1, no idle or lifetime limit) that LISTENs.
 * postgres-js reconnects on the next query, so after a close the LISTEN is
 * simply re-issued, retried with capped exponential backoff.
 */
function listenPostgres(
  postgres: typeof Postgres,
  url: string,
  connection: { host?: string },
  channel: string,
  onMessage: (payload: string) => void,
  events: ListenEvents,
  onClosed: () => void,
): Listener {
  if (!CHANNEL.test(channel)) throw new Error(`bad channel name ${channel}`);
  let closed = false;
  let listening = false;
  let closes = 0;
  let retryMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let subscribing: Promise<void> | undefined;
  const options = {
    ...dedicatedConnection(connection, `listen:${channel}`),
    // A runtime option of postgres-js (what its own sql.listen uses) that its typings omit.
    onnotify: (ch: string, payload: string) => {
      if (ch === channel) onMessage(payload);
    },
    onclose: () => lost(new Error(`listener connection of ${channel} closed`)),
  };
  const conn = postgres(url, options as Postgres.Options<Record<string, never>>);
  const lost = (err: unknown) => {
    closes++;
    if (closed) return;
    if (listening) {
      listening = false;
      events.onLost?.(err);
    }
    schedule();
  };
  const schedule = () => {
    if (closed || timer || subscribing) return;
    retryMs = Math.min(5000, retryMs ? retryMs * 2 : 100);
    timer = setTimeout(() => {
      timer = undefined;
      subscribe();
    }, retryMs);
    timer.unref();
  };
  const subscribe = () => {
    const before = closes;
    subscribing = conn
      .unsafe(`listen ${channel}`)
      .then(() => {
        subscribing = undefined;
        if (closed) return;
        if (closes !== before) return schedule(); // the connection dropped meanwhile
        retryMs = 0;
        listening = true;
        events.onListen?.();
      })
      .catch((err: unknown) => {
        subscribing = undefined;
        lost(err);
      });
  };
  subscribe();
  return {
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      listening = false;
      onClosed();
      await conn.end({ timeout: 1 });
    },
  };
}

async function createPglite(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  await client.waitReady;
  const db = drizzle(client) as unknown as Db;
  const listeners = new Set<Listener>();
  return {
    db,
    kind: "pglite",
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    listen(channel, onMessage, events = {}) {
      // In process: once listening, nothing is ever missed.
      if (!CHANNEL.test(channel)) throw new Error(`bad channel name ${channel}`);
      let closed = false;
      const subscribed = client.listen(channel, (payload) => closed || onMessage(payload)).then(
        (unlisten) => {
          if (!closed) events.onListen?.();
          return unlisten;
        },
        (err: unknown) => {
          if (!closed) events.onLost?.(err);
          return undefined;
        },
      );
      const listener: Listener = {
        async close() {
          if (closed) return;
          closed = true;
          listeners.delete(listener);
          const unlisten = await subscribed;
          if (!client.closed) await unlisten?.();
        },
      };
      listeners.add(listener);
      return listener;
    },
    close: async () => {
      await Promise.all([...listeners].map((l) => l.close()));
      await client.close();
    },
  };
}

/** Rows of a raw `db.execute(sql...)`, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
