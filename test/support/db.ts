/**
 * A fresh, migrated database per test file: a new Postgres database when
 * DATABASE_URL is set (CI runs the suite that way), in-memory PGlite otherwise.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createDatabase, postgresConnection, type Database } from "../../src/platform/db.js";

export interface TestDatabase extends Database {
  /** Closes and, on Postgres, drops the database. */
  dispose(): Promise<void>;
}

export const onRealPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
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
  const database = await createDatabase({ url: url.toString(), poolMax: 20 });
  await database.migrate();
  return {
    ...database,
    dispose: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
