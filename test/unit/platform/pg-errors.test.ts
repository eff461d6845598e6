import { describe, expect, it } from "vitest";
import { databaseFailureOf, isUniqueViolation } from "../../../src/platform/pg-errors.js";

/** An error as a driver throws it, optionally wrapped the way Drizzle wraps query errors. */
const driverError = (code: string, message = `driver says ${code}`) => Object.assign(new Error(message), { code });
const drizzleWrapped = (cause: Error) =>
  Object.assign(new Error('Failed query: select * from "inventory"."products" where id = $1'), { cause });

describe("databaseFailureOf", () => {
  it.each([
    ["ECONNREFUSED"], ["ECONNRESET"], ["CONNECT_TIMEOUT"], ["CONNECTION_CLOSED"], ["CONNECTION_ENDED"],
    ["08006"], ["08001"], ["57P01"], ["57P03"], ["53300"],
  ])("%s → UNAVAILABLE DATABASE_UNAVAILABLE, through Drizzle's wrapping too", (code) => {
    for (const err of [driverError(code), drizzleWrapped(driverError(code))]) {
      const f = databaseFailureOf(err);
      expect(f?.kind).toBe("UNAVAILABLE");
      expect(f?.reason).toBe("DATABASE_UNAVAILABLE");
    }
  });

  it("serialisation failures and deadlocks → ABORTED DATABASE_CONFLICT", () => {
    for (const code of ["40001", "40P01"]) {
      const f = databaseFailureOf(drizzleWrapped(driverError(code)));
      expect([f?.kind, f?.reason]).toEqual(["ABORTED", "DATABASE_CONFLICT"]);
    }
  });

  it("a cancelled statement (statement_timeout) → DEADLINE_EXCEEDED DATABASE_TIMEOUT", () => {
    const f = databaseFailureOf(driverError("57014"));
    expect([f?.kind, f?.reason]).toEqual(["DEADLINE_EXCEEDED", "DATABASE_TIMEOUT"]);
  });

  it("says nothing of query errors, other errors or non-errors, and never repeats the driver's text", () => {
    for (const err of [driverError("23505"), driverError("42P01"), new Error("boom"), undefined, "ECONNREFUSED", { code: 42 }]) {
      expect(databaseFailureOf(err)).toBeUndefined();
    }
    const f = databaseFailureOf(drizzleWrapped(driverError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.7:5432")));
    expect(f?.message).not.toMatch(/10\.0\.0\.7|ECONNREFUSED|select/i);
  });
});

describe("isUniqueViolation", () => {
  it("matches the named constraint through Drizzle's wrapping, for either driver's field name", () => {
    const pgjs = Object.assign(driverError("23505"), { constraint_name: "products_sku_key" });
    const pglite = Object.assign(driverError("23505"), { constraint: "products_sku_key" });
    expect(isUniqueViolation(drizzleWrapped(pgjs), "products_sku_key")).toBe(true);
    expect(isUniqueViolation(pglite, "products_sku_key")).toBe(true);
    expect(isUniqueViolation(pgjs, "customers_email_key")).toBe(false);
    expect(isUniqueViolation(driverError("23503"), "products_sku_key")).toBe(false);
  });
});
