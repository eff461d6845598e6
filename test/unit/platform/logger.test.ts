import { DrizzleQueryError } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/platform/logger.js";

function capture() {
  const lines: string[] = [];
  const logger = createLogger("info", { write: (s: string) => void lines.push(s) });
  return { logger, text: () => lines.join("\n") };
}

describe("logger", () => {
  it("logs a failed statement's SQL but never its parameters, nor a database error's detail", () => {
    const { logger, text } = capture();
    const pg = Object.assign(new Error('duplicate key value violates unique constraint "customers_email_key"'), {
      code: "23505",
      constraint_name: "customers_email_key",
      detail: "Key (email)=(ada.lovelace@example.com) already exists.",
    });
    const err = new DrizzleQueryError("insert into customers (email, display_name) values ($1, $2)", ["ada.lovelace@example.com", "Ada Lovelace"], pg);
    logger.error({ err }, "internal error");
    const out = text();
    expect(out).toContain("insert into customers");
    expect(out).toContain("23505");
    expect(out).toContain("customers_email_key");
    expect(out).not.toContain("ada.lovelace@example.com");
    expect(out).not.toContain("Ada Lovelace");
  });

  it("censors credentials and URL passwords wherever they are put", () => {
    const { logger, text } = capture();
    logger.warn({ headers: { authorization: "Bearer eyJ.secret.sig" }, token: "eyJ.other", url: "postgres://app:hunter2@db/x" }, "x");
    logger.error({ err: new Error("connect to postgres://app:hunter2@db:5432/x failed") }, "y");
    const out = text();
    for (const secret of ["eyJ.secret.sig", "eyJ.other", "hunter2"]) expect(out).not.toContain(secret);
    expect(out).toContain("postgres://app:***@db:5432/x");
  });
});
