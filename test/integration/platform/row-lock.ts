/**
 * A second, independent Postgres session on a test database, as another
 * client of the same database would be: it holds a row lock in an open
 * transaction (`select ... for update`) and watches what the service's own
 * sessions do in pg_stat_activity — so a test waits on conditions, not on
 * sleeps.
 */
import postgres from "postgres";
import { postgresConnection } from "../../../src/platform/db.js";

export interface Outsider {
  /** Locks the order's row until the returned function is called (it resolves once the lock is gone). */
  lockOrder(orderId: string): Promise<() => Promise<void>>;
  /** Sessions of the service waiting for a lock now. */
  lockWaiters(): Promise<number>;
  /** Resolves once no session of the service runs a statement or sits in a transaction. */
  quiet(): Promise<void>;
  /** The order's shipping columns as stored (committed) now. */
  shippingOf(orderId: string): Promise<{ carrier: string | null; tracking_number: string | null }>;
  close(): Promise<void>;
}

/** Polls `check` until it holds (every 20 ms, for up to `timeoutMs`). */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function createOutsider(databaseUrl: string): Outsider {
  const { url, options } = postgresConnection(databaseUrl);
  const sql = postgres(url, { ...options, max: 3, onnotice: () => {}, connection: { application_name: "outsider" } });
  const others = sql`datname = current_database() and application_name <> 'outsider' and pid <> pg_backend_pid() and backend_type = 'client backend'`;
  return {
    async lockOrder(orderId) {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const tx = sql.begin(async (t) => {
        await t`select id from orders.orders where id = ${orderId} for update`;
        locked();
        await released;
      });
      await Promise.race([isLocked, tx]);
      return async () => {
        release();
        await tx;
      };
    },
    async lockWaiters() {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where ${others} and wait_event_type = 'Lock'`;
      return row.n;
    },
    quiet: () =>
      until(async () => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where ${others} and state in ('active', 'idle in transaction')`;
        return row.n === 0;
      }, "the service's sessions to finish"),
    async shippingOf(orderId) {
      const [row] = await sql<{ carrier: string | null; tracking_number: string | null }[]>`
        select carrier, tracking_number from orders.orders where id = ${orderId}`;
      return row;
    },
    close: () => sql.end({ timeout: 1 }),
  };
}
