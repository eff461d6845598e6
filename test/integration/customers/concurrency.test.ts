/**
 * Races that need real concurrency (a connection pool on real Postgres):
 * row locks serialise updates, the unique index arbitrates creates.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onRealPostgres } from "../../support/db.js";
import { reasonOf, rpcFailure } from "../../support/rpc-errors.js";
import { createCustomersHarness, type CustomersHarness } from "./support.js";

const N = 20;

describe.skipIf(!onRealPostgres)("CustomerService under concurrency (real Postgres)", () => {
  let h: CustomersHarness;
  beforeAll(async () => {
    h = await createCustomersHarness();
  });
  afterAll(() => h?.close());

  it(`${N} concurrent unconditional updates all apply, one after another`, async () => {
    const { customer: c } = await h.client.createCustomer({ email: "race-update@conc.test", displayName: "Start" });
    const names = Array.from({ length: N }, (_, i) => `Name ${i}`);
    const results = await Promise.all(
      names.map((displayName) => h.client.updateCustomer({ customerId: c!.id, displayName })),
    );
    const etags = results.map((r) => r.customer!.etag);
    // Each update saw the previous one's result: N distinct etags, version 1 → N + 1.
    expect(new Set(etags).size).toBe(N);
    expect(etags.map(Number).sort((a, b) => a - b)).toEqual(names.map((_, i) => i + 2));
    const final = (await h.client.getCustomer({ customerId: c!.id })).customer!;
    expect(final.etag).toBe(String(N + 1));
    const lastWriter = results.find((r) => r.customer!.etag === final.etag)!.customer!;
    expect(final.displayName).toBe(lastWriter.displayName);
  });

  it(`${N} concurrent creates with one email (any case): exactly one wins`, async () => {
    const emails = Array.from({ length: N }, (_, i) => (i % 2 ? "Race@Conc.test" : "race@conc.test"));
    const settled = await Promise.allSettled(
      emails.map((email, i) => h.client.createCustomer({ email, displayName: `Racer ${i}` })),
    );
    expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(1);
    const errors = await Promise.all(
      settled.flatMap((s) => (s.status === "rejected" ? [rpcFailure(Promise.reject(s.reason))] : [])),
    );
    expect(errors).toHaveLength(N - 1);
    for (const err of errors) {
      expect(err.code).toBe(Code.AlreadyExists);
      expect(reasonOf(err)).toBe("EMAIL_TAKEN");
    }
  });
});
