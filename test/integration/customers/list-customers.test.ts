/** ListCustomers through the real Connect router: paging walk, filters, tokens, page size. */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerStatus, CustomerTier, type Customer } from "../../../gen/customers/v1/customer_service_pb.js";
import { rpcFailure } from "../../support/rpc-errors.js";
import { createCustomersHarness, expectError, type CustomersHarness } from "./support.js";

let h: CustomersHarness;
const created: Customer[] = [];

beforeAll(async () => {
  h = await createCustomersHarness();
  // Several may share a millisecond: ties on create_time are broken by id.
  for (let i = 0; i < 23; i++) {
    const tier = i % 3 === 0 ? CustomerTier.VIP : CustomerTier.STANDARD;
    created.push((await h.client.createCustomer({ email: `p${i}@list.test`, displayName: `P${i}`, tier })).customer!);
  }
  await h.client.updateCustomer({ customerId: created[4].id, status: CustomerStatus.SUSPENDED });
});
afterAll(() => h?.close());

/** The order the API promises: create_time desc, then id desc. */
const newestFirst = (cs: Customer[]) =>
  [...cs]
    .sort((a, b) => Number(b.createTime!.seconds - a.createTime!.seconds) || b.createTime!.nanos - a.createTime!.nanos || (a.id < b.id ? 1 : -1))
    .map((c) => c.id);

async function walk(req: { pageSize: number; tier?: CustomerTier; status?: CustomerStatus }) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let pageToken = "";
  do {
    const page = await h.client.listCustomers({ ...req, pageToken });
    ids.push(...page.customers.map((c) => c.id));
    sizes.push(page.customers.length);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && sizes.length < 100);
  return { ids, sizes };
}

describe("ListCustomers", () => {
  it("walks all customers newest first, without duplicates or skips", async () => {
    const { ids, sizes } = await walk({ pageSize: 5 });
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(ids).toEqual(newestFirst(created));
  });

  it("a page size equal to the total gives one page and no token", async () => {
    const page = await h.client.listCustomers({ pageSize: 23 });
    expect(page.customers).toHaveLength(23);
    expect(page.nextPageToken).toBe("");
  });

  it("0 means the default page size (50)", async () => {
    expect((await h.client.listCustomers({})).customers).toHaveLength(23);
  });

  it("filters by tier and by status, also across pages", async () => {
    const vip = await walk({ pageSize: 2, tier: CustomerTier.VIP });
    expect(vip.ids).toEqual(newestFirst(created.filter((c) => c.tier === CustomerTier.VIP)));
    const suspended = await walk({ pageSize: 2, status: CustomerStatus.SUSPENDED });
    expect(suspended.ids).toEqual([created[4].id]);
    const active = await walk({ pageSize: 10, status: CustomerStatus.ACTIVE, tier: CustomerTier.STANDARD });
    expect(active.ids).toHaveLength(created.filter((c) => c.tier === CustomerTier.STANDARD).length - 1);
  });

  it("filters by email in any letter case: a page of the one customer, or none", async () => {
    for (const email of ["p7@list.test", "P7@LIST.TEST", "p7@List.Test"]) {
      const page = await h.client.listCustomers({ email });
      expect(page.customers.map((c) => c.id), email).toEqual([created[7].id]);
      expect(page.nextPageToken).toBe("");
    }
    expect((await h.client.listCustomers({ email: "nobody@list.test" })).customers).toEqual([]);
    // Every filter holds: p7 is STANDARD (7 % 3 ≠ 0).
    expect((await h.client.listCustomers({ email: "p7@list.test", tier: CustomerTier.VIP })).customers).toEqual([]);
    expect((await h.client.listCustomers({ email: "p7@list.test", tier: CustomerTier.STANDARD })).customers).toHaveLength(1);
    const err = await rpcFailure(h.client.listCustomers({ email: "not-an-email" }));
    expect(expectError(err, Code.InvalidArgument, "INVALID_REQUEST")).toEqual(["email"]);
  });

  it("binds the token to the email", async () => {
    const first = await h.client.listCustomers({ pageSize: 2 });
    const err = await rpcFailure(h.client.listCustomers({ pageSize: 2, email: "p1@list.test", pageToken: first.nextPageToken }));
    expectError(err, Code.InvalidArgument, "INVALID_PAGE_TOKEN");
  });

  it("a token used with another filter → INVALID_ARGUMENT INVALID_PAGE_TOKEN", async () => {
    const first = await h.client.listCustomers({ pageSize: 2, tier: CustomerTier.VIP });
    const err = await rpcFailure(h.client.listCustomers({ pageSize: 2, pageToken: first.nextPageToken }));
    expect(expectError(err, Code.InvalidArgument, "INVALID_PAGE_TOKEN")).toEqual(["page_token"]);
  });

  it("a forged token → INVALID_PAGE_TOKEN; a negative page_size → BadRequest page_size", async () => {
    expectError(await rpcFailure(h.client.listCustomers({ pageToken: "garbage" })), Code.InvalidArgument, "INVALID_PAGE_TOKEN");
    const err = await rpcFailure(h.client.listCustomers({ pageSize: -1 }));
    expect(expectError(err, Code.InvalidArgument, "INVALID_REQUEST")).toEqual(["page_size"]);
  });
});
