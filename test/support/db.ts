/**
 * A fresh, migrated database per test file: a new Postgres database when
 * DATABASE_URL is set (CI runs the suite that way), in-memory PGlite otherwise.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createDatabase, postgresConnection, type Database } from "../../src/platform/db.js";

export interface TestDatabase extends Database {
  /** Postgres: the database's URL (for a second, independent connection). */
  readonly url?: string;
  /** Closes and, on Postgres, drops the database. */
  dispose(): Promise<void>;
}

export const onRealPostgres = Boolean(process.env.DATABASE_URL);

/** Pool settings of the database's handle; the defaults are the tests' usual ones. */
export interface TestDatabaseOptions {
  readonly poolMax?: number;
  /**
   * DB_POOL_WAIT_MS. Tests wait up to their calls' deadlines by default: the
   * burst tests (1,000 concurrent orders on one product, on a 2-core box the
   * whole suite shares) check the stock rules, and a transaction queued
   * behind that hot row for longer than the production default (1 s) would
   * fail DB_POOL_EXHAUSTED there. hot-row.test.ts checks the bound itself.
   */
  readonly poolWaitMs?: number;
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const database = await createDatabase({});
    await database.migrate();
    return { ...database, dispose: () => database.close() };
  }
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const { url: adminUrl, options } = postgresConnection(baseUrl);
  const admin = postgres(adminUrl, { ...options, max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const database = await createDatabase({ url: url.toString(), poolMax: opts.poolMax ?? 20, poolWaitMs: opts.poolWaitMs ?? 30_000 });
  await database.migrate();
  return {
    ...database,
    url: url.toString(),
    dispose: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
