import { describe, expect, it } from "vitest";
import { postgresConnection } from "../../../src/platform/db.js";

describe("postgresConnection (DATABASE_URL forms)", () => {
  it("passes a TCP URL through untouched", () => {
    const url = "postgres://app:secret@db.internal:6432/orders?sslmode=require";
    expect(postgresConnection(url)).toEqual({ url, options: {} });
  });

  it("turns libpq's ?host=/dir into the driver's host option and drops it from the URL", () => {
    const got = postgresConnection("postgres://postgres@localhost:5432/orders?host=/var/run/postgresql&application_name=svc");
    expect(got.options).toEqual({ host: "/var/run/postgresql" });
    const u = new URL(got.url);
    expect(u.searchParams.has("host")).toBe(false);
    expect(u.searchParams.get("application_name")).toBe("svc");
    expect(u.pathname).toBe("/orders");
    expect(u.port).toBe("5432");
  });

  it("leaves a host parameter that is not a directory alone", () => {
    const url = "postgres://postgres@localhost/orders?host=db2";
    expect(postgresConnection(url)).toEqual({ url, options: {} });
  });
});
