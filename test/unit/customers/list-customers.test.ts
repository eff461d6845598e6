import { describe, expect, it } from "vitest";
import { createListCustomers } from "../../../src/customers/app/list-customers.js";
import { newCustomer, type Customer } from "../../../src/customers/domain/customer.js";
import type { CustomerRepository, ListPageQuery } from "../../../src/customers/domain/ports.js";
import { backgroundContext } from "../../../src/kernel/call-context.js";
import { encodePageToken } from "../../../src/kernel/page-token.js";
import { domainFailure } from "../../support/rpc-errors.js";

const cx = backgroundContext();
const at = new Date("2030-01-01T00:00:00.000Z");
const customer = (n: number): Customer =>
  newCustomer(`00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, { email: `c${n}@x.io`, displayName: "C" }, at);

function fakeRepo(rows: Customer[], seen: ListPageQuery[]): CustomerRepository {
  const unused = () => Promise.reject(new Error("unused"));
  return {
    insert: unused,
    insertIfAbsent: unused,
    findById: unused,
    listVips: unused,
    update: unused,
    list: async (q) => {
      seen.push(q);
      return rows.slice(0, q.limit);
    },
  };
}

describe("listCustomers use case", () => {
  it("asks for one row more than the page and issues a token only when there is more", async () => {
    const seen: ListPageQuery[] = [];
    const list = createListCustomers({ repo: fakeRepo([customer(1), customer(2), customer(3)], seen) });
    const full = await list(cx, { pageSize: 2, pageToken: "" });
    expect(seen[0]).toMatchObject({ limit: 3, after: undefined });
    expect(full.customers).toHaveLength(2);
    expect(full.nextPageToken).not.toBe("");
    const last = await list(cx, { pageSize: 3, pageToken: full.nextPageToken });
    expect(seen[1].after).toEqual({ createTime: at, id: customer(2).id });
    expect(last.nextPageToken).toBe("");
  });

  it("applies the page-size rules (0 → 50, > 500 → 500)", async () => {
    const seen: ListPageQuery[] = [];
    const list = createListCustomers({ repo: fakeRepo([], seen) });
    await list(cx, { pageSize: 0, pageToken: "" });
    await list(cx, { pageSize: 10_000, pageToken: "" });
    expect(seen.map((q) => q.limit)).toEqual([51, 501]);
  });

  it("rejects a token minted for another filter, and garbage", async () => {
    const list = createListCustomers({ repo: fakeRepo([customer(1), customer(2)], []) });
    const { nextPageToken } = await list(cx, { pageSize: 1, pageToken: "", tier: "VIP" });
    expect((await domainFailure(list(cx, { pageSize: 1, pageToken: nextPageToken }))).reason).toBe("INVALID_PAGE_TOKEN");
    expect((await domainFailure(list(cx, { pageSize: 1, pageToken: "%%%" }))).reason).toBe("INVALID_PAGE_TOKEN");
  });

  it("rejects a well-formed token whose key is not a (time, uuid) pair", async () => {
    const list = createListCustomers({ repo: fakeRepo([], []) });
    const query = { list: "customers", tier: null, status: null, order: "create_time desc, id desc" };
    const bad = encodePageToken(["not a time", "x"], query);
    expect((await domainFailure(list(cx, { pageSize: 1, pageToken: bad }))).reason).toBe("INVALID_PAGE_TOKEN");
  });
});
