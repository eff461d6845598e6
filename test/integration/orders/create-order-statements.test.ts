/**
 * The pgbench ceiling runs what CreateOrder runs (issue 15): the statements
 * bench/pgbench/generate.ts renders into the ceiling's script are the ones a
 * CreateOrder through the production wiring executes — each exactly once,
 * nothing else on the request's path — and, on Postgres, the rendered script
 * runs under pgbench without a failed transaction and stores what a
 * CreateOrder stores (a CONFIRMED order, its stock sold).
 * test/unit/bench/pgbench-script.test.ts checks the committed script is current.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_ORDER_STATEMENTS, renderCreateOrderScript } from "../../../bench/pgbench/generate.js";
import { seedCatalog } from "../../../bench/lib/seed.js";
import { RESERVATION_OWNER } from "../../../bench/lib/seed.js";
import { statementDurations } from "../../../src/platform/bounded.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../../support/db.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";

const counts = (h: OrdersHarness) => new Map([...statementDurations(h.database.db).entries()].map(([name, hist]) => [name, hist.count]));

describe("CreateOrder's statements and the pgbench ceiling", () => {
  let h: OrdersHarness;
  beforeAll(async () => {
    h = await createOrdersHarness();
  });
  afterAll(() => h?.stack.close());

  it("a CreateOrder runs exactly the ceiling's statements, each once", async () => {
    const customerId = await newCustomer(h);
    const [a, b] = [await newProduct(h, 10), await newProduct(h, 10)];
    const before = counts(h);
    const res = await h.orders.createOrder({
      customerId,
      requestId: requestId(),
      items: [
        { productId: a, quantity: 1 },
        { productId: b, quantity: 2 },
      ],
      shippingAddress: { recipientName: "A", line1: "1 St", city: "C", postalCode: "1", countryCode: "US" },
    });
    expect(res.order?.status).toBeDefined();
    const ran = [...counts(h)].filter(([name, n]) => n !== (before.get(name) ?? 0)).map(([name, n]) => [name, n - (before.get(name) ?? 0)]);
    expect(Object.fromEntries(ran)).toEqual(Object.fromEntries(CREATE_ORDER_STATEMENTS.map((s) => [s.name, 1])));
  });

  it.skipIf(!onRealPostgres)("the rendered script runs under pgbench and stores confirmed orders with their stock sold (Postgres)", async () => {
    const database: TestDatabase = await createTestDatabase();
    try {
      const exec = async (text: string) => void (await database.db.execute(sql.raw(text)));
      await seedCatalog(exec, 20, 20);
      const dir = mkdtempSync(join(tmpdir(), "pgbench-script-"));
      const script = join(dir, "create-order.sql");
      writeFileSync(script, renderCreateOrderScript());
      const args = ["-n", "-M", "prepared", "-f", script, "-c", "2", "-t", "25", "-D", "products=20", "-D", "customers=20", "-D", `owner=${RESERVATION_OWNER}`, database.url!];
      const { stdout } = await promisify(execFile)("pgbench", args);
      expect(stdout).toMatch(/number of transactions actually processed: 50\/50/);
      expect(stdout).not.toMatch(/number of failed transactions: [1-9]/);
      const [row] = (await database.db.execute(
        sql.raw(`select count(*)::int as confirmed,
          (select count(*)::int from inventory.reservations where status = 'COMMITTED') as committed,
          (select sum(reserved)::int from inventory.products) as reserved
          from orders.orders where status = 'CONFIRMED' and reservation_state = 'COMMITTED'`),
      )) as unknown as { confirmed: number; committed: number; reserved: number }[];
      expect(row).toEqual({ confirmed: 50, committed: 50, reserved: 0 });
    } finally {
      await database.dispose();
    }
  });
});
