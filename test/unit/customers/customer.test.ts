import { describe, expect, it } from "vitest";
import { applyUpdate, checkEtag, etagOf, newCustomer, type Customer } from "../../../src/customers/domain/customer.js";
import { domainThrown } from "../../support/rpc-errors.js";

const t0 = new Date("2030-01-01T00:00:00.000Z");
const t1 = new Date("2030-01-02T00:00:00.000Z");
const ID = "11111111-1111-4111-8111-111111111111";
const base = (): Customer => newCustomer(ID, { email: "ada@example.com", displayName: "Ada" }, t0);

describe("newCustomer", () => {
  it("is ACTIVE, STANDARD by default, version 1, both times = now", () => {
    expect(base()).toEqual({
      id: ID,
      email: "ada@example.com",
      displayName: "Ada",
      tier: "STANDARD",
      status: "ACTIVE",
      version: 1,
      createTime: t0,
      updateTime: t0,
    });
  });

  it("keeps a given tier", () => {
    expect(newCustomer(ID, { email: "a@b.co", displayName: "A", tier: "VIP" }, t0).tier).toBe("VIP");
  });
});

describe("checkEtag", () => {
  it("accepts an empty or current etag", () => {
    expect(() => checkEtag(base(), "")).not.toThrow();
    expect(() => checkEtag(base(), etagOf(base()))).not.toThrow();
  });

  it("rejects a stale etag with ABORTED ETAG_MISMATCH", () => {
    const e = domainThrown(() => checkEtag(base(), "7"));
    expect([e.kind, e.reason]).toEqual(["ABORTED", "ETAG_MISMATCH"]);
    expect(e.options.metadata).toEqual({ customerId: ID, etag: "1" });
  });
});

describe("applyUpdate", () => {
  it("changes only the fields that are set, bumps version and update_time", () => {
    const next = applyUpdate(base(), { patch: { displayName: "Ada L.", status: "SUSPENDED" }, etag: "" }, t1);
    expect(next).toEqual({ ...base(), displayName: "Ada L.", status: "SUSPENDED", version: 2, updateTime: t1 });
  });

  it("changes email and tier", () => {
    const next = applyUpdate(base(), { patch: { email: "ada@new.example", tier: "VIP" }, etag: "1" }, t1);
    expect([next.email, next.tier, next.displayName, next.status]).toEqual(["ada@new.example", "VIP", "Ada", "ACTIVE"]);
    expect(etagOf(next)).not.toBe(etagOf(base()));
  });

  it("returns the same object when nothing changes (empty patch or same values)", () => {
    const c = base();
    expect(applyUpdate(c, { patch: {}, etag: "" }, t1)).toBe(c);
    expect(applyUpdate(c, { patch: { displayName: "Ada", tier: "STANDARD" }, etag: "1" }, t1)).toBe(c);
  });

  it("checks the etag before anything else", () => {
    const e = domainThrown(() => applyUpdate(base(), { patch: { displayName: "X" }, etag: "2" }, t1));
    expect(e.reason).toBe("ETAG_MISMATCH");
  });

  it("never moves update_time backwards", () => {
    const c = { ...base(), updateTime: t1 };
    expect(applyUpdate(c, { patch: { displayName: "X" }, etag: "" }, t0).updateTime).toBe(t1);
  });
});
