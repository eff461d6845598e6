/**
 * The names a hand-written statement uses, taken from the Drizzle schema
 * (each service's infra/schema.ts) when the statement is built (once, at start-up), so the SQL
 * cannot name a table or column the schema does not: `${t}` renders the
 * table's qualified name (`"inventory"."products"`), `${t.stockOnHand}` the
 * column's bare name (`"stock_on_hand"`), for SET targets, INSERT column
 * lists and `alias.${t.stockOnHand}`. What a statement makes up itself (CTE
 * and alias names, the columns of its CTEs) stays literal.
 */
import { getTableColumns, sql, type SQL, type SQLWrapper, type Table } from "drizzle-orm";

export type Names<T extends Table> = SQLWrapper & { readonly [K in keyof T["_"]["columns"]]: SQL };

export function namesOf<T extends Table>(table: T): Names<T> {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => [key, sql.identifier(column.name)]);
  // A bare name, not a subquery: no parentheses around it.
  const name = { getSQL: () => sql`${table}`, shouldOmitSQLParens: () => true };
  return Object.freeze({ ...Object.fromEntries(columns), ...name }) as Names<T>;
}

/** `a, b, c`: bare column names for an INSERT list. */
export const list = (...names: SQL[]): SQL => sql.join(names, sql`, `);
