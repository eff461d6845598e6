/**
 * The bench's own database: a fresh `bench_<timestamp>` database on the
 * Postgres named by DATABASE_URL (created here, dropped at the end), or an
 * embedded PGlite data directory in a temp dir. Migrations are the service's
 * own (src/platform/db.ts), applied before the service starts so seeding can
 * run first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { createDatabase, postgresConnection, type Database } from "../../src/platform/db.js";
import type { Exec } from "./seed.js";

export interface BenchDatabase {
  readonly kind: "postgres" | "pglite";
  /** Environment for the service child: DATABASE_URL or DATA_DIR. */
  readonly serviceEnv: Record<string, string>;
  /** postgres:// URL of the bench database (Postgres only; for pgbench). */
  readonly url?: string;
  /** Opens a connection for seeding; close it before the service starts on PGlite. */
  open(): Promise<SeedConnection>;
  /** Drops the database / removes the directory. */
  dispose(): Promise<void>;
}

export interface SeedConnection {
  readonly exec: Exec;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export async function createBenchDatabase(databaseUrl: string | undefined): Promise<BenchDatabase> {
  return databaseUrl ? createPostgresBench(databaseUrl) : createPgliteBench();
}

function adminConnection(adminUrl: string) {
  const { url, options } = postgresConnection(adminUrl);
  return postgres(url, { ...options, max: 1, onnotice: () => {} });
}

async function createPostgresBench(adminUrl: string): Promise<BenchDatabase> {
  const name = `bench_${Date.now()}_${process.pid}`;
  const admin = adminConnection(adminUrl);
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    kind: "postgres",
    url,
    serviceEnv: { DATABASE_URL: url },
    async open() {
      const database = await createDatabase({ url, poolMax: 1 });
      return connection(database);
    },
    async dispose() {
      const a = adminConnection(adminUrl);
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

async function createPgliteBench(): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "order-bench-"));
  const dataDir = join(dir, "pglite");
  return {
    kind: "pglite",
    serviceEnv: { DATA_DIR: dataDir },
    async open() {
      return connection(await createDatabase({ dataDir }));
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connection(database: Database): SeedConnection {
  return {
    exec: async (text) => {
      await database.db.execute(sql.raw(text));
    },
    migrate: () => database.migrate(),
    close: () => database.close(),
  };
}
