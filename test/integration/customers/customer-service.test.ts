/** Every CustomerService RPC through the real Connect router, wrapped as in production. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CustomerStatus, CustomerTier } from "../../../gen/customers/v1/customer_service_pb.js";
import { rpcFailure } from "../../support/rpc-errors.js";
import { createCustomersHarness, expectError, type CustomersHarness } from "./support.js";

let h: CustomersHarness;
beforeAll(async () => {
  h = await createCustomersHarness();
});
afterAll(() => h?.close());

const UNKNOWN = "99999999-9999-4999-8999-999999999999";
const create = (email: string, tier = CustomerTier.UNSPECIFIED) =>
  h.client.createCustomer({ email, displayName: `Name of ${email}`, tier }).then((r) => r.customer!);

describe("CreateCustomer / GetCustomer", () => {
  it("creates an ACTIVE STANDARD customer with server fields and reads it back", async () => {
    const c = await create("new@rpc.test");
    expect(c).toMatchObject({ email: "new@rpc.test", tier: CustomerTier.STANDARD, status: CustomerStatus.ACTIVE });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.etag).not.toBe("");
    expect(timestampDate(c.createTime!)).toEqual(timestampDate(c.updateTime!));
    expect((await h.client.getCustomer({ customerId: c.id })).customer).toEqual(c);
  });

  it("keeps an explicit tier", async () => {
    expect((await create("vip@rpc.test", CustomerTier.VIP)).tier).toBe(CustomerTier.VIP);
  });

  it("rejects an email taken in another letter case: ALREADY_EXISTS EMAIL_TAKEN", async () => {
    await create("Taken@RPC.test");
    expectError(await rpcFailure(create("taken@rpc.TEST")), Code.AlreadyExists, "EMAIL_TAKEN");
  });

  it("reports bad input as INVALID_ARGUMENT with BadRequest field names", async () => {
    const bad = await rpcFailure(h.client.createCustomer({ email: "not-an-email", displayName: "" }));
    expect(expectError(bad, Code.InvalidArgument, "INVALID_REQUEST")).toEqual(["display_name", "email"]);
    const badId = await rpcFailure(h.client.getCustomer({ customerId: "nope" }));
    expect(expectError(badId, Code.InvalidArgument, "INVALID_REQUEST")).toEqual(["customer_id"]);
  });

  it("unknown id → NOT_FOUND CUSTOMER_NOT_FOUND", async () => {
    expectError(await rpcFailure(h.client.getCustomer({ customerId: UNKNOWN })), Code.NotFound, "CUSTOMER_NOT_FOUND");
  });
});

describe("UpdateCustomer", () => {
  it("changes only the set fields and moves the etag and update_time", async () => {
    const c = await create("upd@rpc.test");
    const { customer: u } = await h.client.updateCustomer({ customerId: c.id, status: CustomerStatus.SUSPENDED, etag: c.etag });
    expect(u).toMatchObject({ email: c.email, displayName: c.displayName, tier: c.tier, status: CustomerStatus.SUSPENDED });
    expect(u!.etag).not.toBe(c.etag);
    expect(timestampDate(u!.updateTime!) >= timestampDate(c.updateTime!)).toBe(true);
    expect(u!.createTime).toEqual(c.createTime);
    const { customer: v } = await h.client.updateCustomer({ customerId: c.id, displayName: "Renamed", tier: CustomerTier.VIP });
    expect(v).toMatchObject({ displayName: "Renamed", tier: CustomerTier.VIP, status: CustomerStatus.SUSPENDED });
    expect((await h.client.getCustomer({ customerId: c.id })).customer).toEqual(v);
  });

  it("a stale etag → ABORTED ETAG_MISMATCH and nothing changes", async () => {
    const c = await create("etag@rpc.test");
    await h.client.updateCustomer({ customerId: c.id, displayName: "First" });
    const err = await rpcFailure(h.client.updateCustomer({ customerId: c.id, displayName: "Second", etag: c.etag }));
    expectError(err, Code.Aborted, "ETAG_MISMATCH");
    expect((await h.client.getCustomer({ customerId: c.id })).customer!.displayName).toBe("First");
  });

  it("an email taken by another customer → ALREADY_EXISTS EMAIL_TAKEN", async () => {
    await create("owner@rpc.test");
    const c = await create("mover@rpc.test");
    const err = await rpcFailure(h.client.updateCustomer({ customerId: c.id, email: "OWNER@rpc.test" }));
    expectError(err, Code.AlreadyExists, "EMAIL_TAKEN");
  });

  it("unknown id → NOT_FOUND; bad fields → BadRequest", async () => {
    const missing = await rpcFailure(h.client.updateCustomer({ customerId: UNKNOWN, displayName: "X" }));
    expectError(missing, Code.NotFound, "CUSTOMER_NOT_FOUND");
    const bad = await rpcFailure(h.client.updateCustomer({ customerId: "x", email: "bad", displayName: "" }));
    expect(expectError(bad, Code.InvalidArgument, "INVALID_REQUEST")).toEqual(["customer_id", "display_name", "email"]);
  });
});

describe("seedDemo", () => {
  it("creates Ada and Grace with fixed ids, and is idempotent", async () => {
    await h.module.seedDemo();
    await h.module.seedDemo();
    const ada = (await h.client.getCustomer({ customerId: "11111111-1111-4111-8111-111111111111" })).customer!;
    const grace = (await h.client.getCustomer({ customerId: "22222222-2222-4222-8222-222222222222" })).customer!;
    expect([ada.displayName, ada.email, ada.tier, ada.etag]).toEqual(["Ada Lovelace", "ada@example.com", CustomerTier.STANDARD, "1"]);
    expect([grace.displayName, grace.email, grace.tier]).toEqual(["Grace Hopper", "grace@example.com", CustomerTier.VIP]);
  });
});
