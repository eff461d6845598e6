/**
 * The repository's list on its own database: keyset order with ties on
 * create_time (only the id breaks them), cursors, filters.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyUpdate, newCustomer, type Customer, type CustomerTier } from "../../../src/customers/domain/customer.js";
import type { CustomerRepository } from "../../../src/customers/domain/ports.js";
import { createCustomerRepository } from "../../../src/customers/infra/customer-repository.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";

let database: TestDatabase;
let repo: CustomerRepository;

beforeAll(async () => {
  database = await createTestDatabase();
  repo = createCustomerRepository(database.db);
});
afterAll(() => database?.dispose());

const make = (email: string, at: Date, tier: CustomerTier): Customer =>
  newCustomer(randomUUID(), { email, displayName: "Someone", tier }, at);

describe("customer repository list", () => {
  // All share one create_time, so only the id breaks ties: the hardest case for keyset paging.
  const at = new Date("2031-05-05T05:05:05.123Z");
  const created: Customer[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      created.push(await repo.insert(make(`list${i}@repo.test`, at, i % 2 ? "VIP" : "STANDARD")));
    }
    created.push(await repo.insert(make("newest@repo.test", new Date(at.getTime() + 1), "VIP")));
  });

  it("orders newest first, then by id descending", async () => {
    const rows = await repo.list({ limit: 8 });
    const expected = [...created].sort((a, b) => b.createTime.getTime() - a.createTime.getTime() || (a.id < b.id ? 1 : -1));
    expect(rows.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  });

  it("continues strictly after the cursor, with ties on create_time", async () => {
    const all = await repo.list({ limit: 8 });
    const rest = await repo.list({ limit: 8, after: { createTime: all[3].createTime, id: all[3].id } });
    expect(rest.map((r) => r.id)).toEqual(all.slice(4).map((r) => r.id));
  });

  it("filters by tier and status", async () => {
    const vip = await repo.list({ limit: 100, tier: "VIP" });
    expect(vip.map((r) => r.id).sort()).toEqual(created.filter((c) => c.tier === "VIP").map((c) => c.id).sort());
    const suspended = await repo.update(created[0].id, (c) => applyUpdate(c, { patch: { status: "SUSPENDED" }, etag: "" }, new Date()));
    expect((await repo.list({ limit: 100, status: "SUSPENDED" })).map((r) => r.id)).toEqual([suspended.id]);
    expect(await repo.list({ limit: 100, status: "SUSPENDED", tier: "VIP" })).toEqual([]);
  });
});
