import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { transitionTableMarkdown } from "../../../src/orders/domain/order-status.js";

it("README's transition table is the domain's table", () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const block = /<!-- transitions:start -->\n([\s\S]*?)\n<!-- transitions:end -->/.exec(readme);
  expect(block?.[1]).toBe(transitionTableMarkdown());
});
