/**
 * The Drizzle repository against a migrated database (PGlite, or Postgres
 * when DATABASE_URL is set): constraints, error translation, keyset order.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyUpdate, newCustomer, type Customer } from "../../../src/customers/domain/customer.js";
import type { CustomerRepository } from "../../../src/customers/domain/ports.js";
import { createCustomerRepository } from "../../../src/customers/infra/customer-repository.js";
import { DomainError } from "../../../src/kernel/errors.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";
import { domainFailure } from "../../support/rpc-errors.js";

let database: TestDatabase;
let repo: CustomerRepository;

beforeAll(async () => {
  database = await createTestDatabase();
  repo = createCustomerRepository(database.db);
});
afterAll(() => database?.dispose());

const make = (email: string, at = new Date()): Customer =>
  newCustomer(randomUUID(), { email, displayName: "Someone" }, at);

describe("customer repository", () => {
  it("stores and reads back a customer exactly", async () => {
    const c = make("exact@repo.test");
    expect(await repo.insert(c)).toEqual(c);
    expect(await repo.findById(c.id)).toEqual(c);
    expect(await repo.findById(randomUUID())).toBeUndefined();
  });

  it("translates a case-insensitive duplicate email into ALREADY_EXISTS EMAIL_TAKEN", async () => {
    await repo.insert(make("Dup@Repo.test"));
    const e = await domainFailure(repo.insert(make("dup@repo.TEST")));
    expect([e.kind, e.reason]).toEqual(["ALREADY_EXISTS", "EMAIL_TAKEN"]);
  });

  it("does not disguise other unique violations (same id) as EMAIL_TAKEN", async () => {
    const c = await repo.insert(make("id-clash@repo.test"));
    const err = await repo.insert({ ...c, email: "other@repo.test" }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(DomainError);
  });

  it("insertIfAbsent is idempotent on id and on email", async () => {
    const c = make("seed@repo.test");
    expect(await repo.insertIfAbsent(c)).toBe(true);
    expect(await repo.insertIfAbsent(c)).toBe(false);
    expect(await repo.insertIfAbsent(make("SEED@repo.test"))).toBe(false);
  });

  it("update runs the function on the stored row and writes its result", async () => {
    const c = await repo.insert(make("upd@repo.test"));
    const later = new Date(c.createTime.getTime() + 1000);
    const next = await repo.update(c.id, (cur) => applyUpdate(cur, { patch: { tier: "VIP" }, etag: "1" }, later));
    expect(next).toMatchObject({ tier: "VIP", version: 2, updateTime: later });
    expect(await repo.findById(c.id)).toEqual(next);
  });

  it("update: unknown id → NOT_FOUND, taken email → EMAIL_TAKEN, thrown domain error → no write", async () => {
    const missing = await domainFailure(repo.update(randomUUID(), (c) => c));
    expect([missing.kind, missing.reason]).toEqual(["NOT_FOUND", "CUSTOMER_NOT_FOUND"]);
    await repo.insert(make("taken@repo.test"));
    const c = await repo.insert(make("mover@repo.test"));
    const taken = await domainFailure(repo.update(c.id, (cur) => ({ ...cur, email: "TAKEN@repo.test", version: 2 })));
    expect(taken.reason).toBe("EMAIL_TAKEN");
    const stale = await domainFailure(repo.update(c.id, (cur) => applyUpdate(cur, { patch: { displayName: "X" }, etag: "9" }, new Date())));
    expect(stale.reason).toBe("ETAG_MISMATCH");
    expect(await repo.findById(c.id)).toEqual(c);
  });

  it("an email may change case on its own customer", async () => {
    const c = await repo.insert(make("case@repo.test"));
    const next = await repo.update(c.id, (cur) => applyUpdate(cur, { patch: { email: "Case@Repo.test" }, etag: "" }, new Date()));
    expect(next.email).toBe("Case@Repo.test");
  });
});
