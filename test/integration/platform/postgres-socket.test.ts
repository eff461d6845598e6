/**
 * DATABASE_URL in libpq's Unix-socket form reaches Postgres over the socket,
 * for the pool and for the LISTEN connection. Runs on real Postgres when its
 * socket is in the usual Debian place.
 */
import { existsSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../../src/platform/db.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";

const SOCKET_DIR = "/var/run/postgresql";
const hasSocket = onRealPostgres && existsSync(`${SOCKET_DIR}/.s.PGSQL.5432`);

describe.skipIf(!hasSocket)("DATABASE_URL over a Unix socket", () => {
  let tcp: TestDatabase;
  let socket: Database;

  beforeAll(async () => {
    tcp = await createTestDatabase();
    const name = (await tcp.db.execute(sql`select current_database() as name`)) as unknown as { name: string }[];
    const u = new URL(process.env.DATABASE_URL!);
    u.hostname = "localhost";
    u.port = "5432";
    u.pathname = `/${name[0]!.name}`;
    u.searchParams.set("host", SOCKET_DIR);
    socket = await createDatabase({ url: u.toString(), poolMax: 2 });
  });

  afterAll(async () => {
    await socket?.close();
    await tcp?.dispose();
  });

  it("queries over the socket (no server address), in the same database", async () => {
    const rows = (await socket.db.execute(
      sql`select inet_server_addr() as addr, current_database() as name`,
    )) as unknown as { addr: string | null; name: string }[];
    expect(rows[0]!.addr).toBeNull();
    const tcpRows = (await tcp.db.execute(sql`select inet_server_addr() as addr`)) as unknown as { addr: string | null }[];
    expect(tcpRows[0]!.addr).not.toBeNull();
  });

  it("listens over the socket", async () => {
    const got = new Promise<string>((resolve) => {
      const ready = new Promise<void>((listening) => {
        socket.listen!("socket_test", resolve, { onListen: listening });
      });
      void ready.then(() => tcp.db.execute(sql`select pg_notify('socket_test', 'hello')`));
    });
    await expect(got).resolves.toBe("hello");
  });
});
