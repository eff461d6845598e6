/**
 * The database's hand-kept histograms, printed by metrics.ts at scrape time:
 *
 * | name | labels |
 * |---|---|
 * | db_pool_wait_seconds (Postgres only: PGlite has no pool) | |
 * | db_statement_duration_seconds | statement |
 *
 * The pool gate records each transaction's wait for a connection (0 when a
 * slot was free: the count is the transactions); prepared statements and
 * bounded transactions record their durations under names fixed in code.
 */
import { statementDurations } from "./bounded.js";
import type { Database } from "./db.js";
import type { Metrics } from "./metrics.js";

export function addDatabaseHistograms(metrics: Pick<Metrics, "addHistogram">, database: Pick<Database, "db" | "gate">): void {
  const { gate } = database;
  if (gate) {
    metrics.addHistogram({
      name: "db_pool_wait_seconds",
      description: "Time a transaction waited for a pooled database connection (0: one was free), refused waits included.",
      unit: "s",
      read: () => [[{}, gate.waits]],
    });
  }
  const durations = statementDurations(database.db);
  metrics.addHistogram({
    name: "db_statement_duration_seconds",
    description: "Duration of each named prepared statement and transaction (BEGIN to COMMIT or ROLLBACK), failed ones included.",
    unit: "s",
    read: function* () {
      for (const [statement, h] of durations.entries()) yield [{ statement }, h] as const;
    },
  });
}
