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

/** The Drizzle handle repositories receive. Transactions: `db.transaction(fn)`. */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;
export type DbKind = "postgres" | "pglite";

export interface Database {
  readonly db: Db;
  readonly kind: DbKind;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Applies the committed drizzle-kit migrations in migrations/. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; undefined → PGlite. */
  readonly url?: string;
  /** PGlite's data directory; undefined → in memory. */
  readonly dataDir?: string;
  readonly poolMax?: number;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function createDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url ? createPostgres(opts.url, opts.poolMax ?? 10) : createPglite(opts.dataDir);
}

async function createPostgres(url: string, poolMax: number): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const client = postgres(url, {
    max: poolMax,
    onnotice: () => {},
    connect_timeout: 5,
    // bigint columns come back as JS bigint (money in minor units).
    types: { bigint: postgres.BigInt },
  });
  const db = drizzle(client) as unknown as Db;
  return {
    db,
    kind: "postgres",
    ping: async () => {
      await client`select 1`;
    },
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.end({ timeout: 5 }),
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
  return {
    db,
    kind: "pglite",
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.close(),
  };
}

/** Rows of a raw `db.execute(sql...)`, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
