/**
 * The committed pgbench ceiling script is what bench/pgbench/generate.ts
 * renders from the service's statements today: a statement changed in the
 * service and not in the ceiling fails here (regenerate with
 * `npx tsx bench/pgbench/generate.ts`).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderCreateOrderScript, SCRIPT_PATH } from "../../../bench/pgbench/generate.js";

describe("bench/pgbench/create-order.sql", () => {
  it("is the service's CreateOrder statements as rendered now", () => {
    expect(readFileSync(SCRIPT_PATH, "utf8")).toBe(renderCreateOrderScript());
  });

  it("holds every statement's text with its placeholders as variables", () => {
    const script = renderCreateOrderScript();
    expect(script).not.toMatch(/\$\d+/);
    expect(script.match(/^-- \d+\. /gm)).toHaveLength(6);
  });
});
