// Applies the committed drizzle-kit migrations (migrations/) to the configured
// database: PostgreSQL when DATABASE_URL is set, the embedded PGlite data
// directory (DATA_DIR) otherwise. Safe to run again: applied migrations are
// skipped.
//
//   npm run migrate
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/orders npm run migrate
import { sql } from "drizzle-orm";
import { ConfigError, loadConfig } from "../src/config.js";
import { createDatabase, MIGRATIONS_FOLDER, rowsOf, type Database } from "../src/platform/db.js";

/** postgres://user:secret@host/db → postgres://user:***@host/db */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/** How many migrations drizzle has recorded as applied (0 before the first run). */
async function appliedCount(database: Database): Promise<number> {
  const [exists] = rowsOf<{ t: string | null }>(
    await database.db.execute(sql`select to_regclass('drizzle.__drizzle_migrations')::text as t`),
  );
  if (!exists?.t) return 0;
  const [row] = rowsOf<{ n: number | string }>(
    await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
  );
  return Number(row?.n ?? 0);
}

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }

  const target = config.databaseUrl
    ? `PostgreSQL at ${redact(config.databaseUrl)}`
    : `embedded PGlite in ${config.dataDir}`;
  console.log(`migrate: ${target}`);
  console.log(`migrate: migrations from ${MIGRATIONS_FOLDER}`);

  let database: Database;
  try {
    database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolMax: 1 });
    await database.ping();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const hint =
      code === "3D000"
        ? " (the database does not exist: create it first, e.g. `createdb -h 127.0.0.1 -U postgres <name>`)"
        : "";
    console.error(`migrate: cannot reach ${target}: ${err instanceof Error ? err.message : String(err)}${hint}`);
    return 1;
  }

  try {
    const before = await appliedCount(database);
    const started = performance.now();
    await database.migrate();
    const after = await appliedCount(database);
    const ms = Math.round(performance.now() - started);
    const applied = after - before;
    console.log(
      applied > 0
        ? `migrate: applied ${applied} migration(s) in ${ms} ms; ${after} applied in all`
        : `migrate: already up to date (${after} migration(s) applied)`,
    );
    return 0;
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `\ncaused by: ${err.cause.message}` : "";
    console.error(`migrate: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${cause}`);
    return 1;
  } finally {
    await database.close();
  }
}

process.exitCode = await main();
