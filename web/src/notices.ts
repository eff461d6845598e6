/**
 * The two live regions: #status (polite) says what an action did, #error
 * (an alert) says what was refused and why, with the error's reason and
 * details. Starting a new action clears both.
 */
import { byId, fill, h } from "./dom.js";
import { describeError } from "./errors.js";

const status = () => byId("status");
const error = () => byId("error");

export function clearNotices(): void {
  fill(status());
  fill(error());
}

export function say(text: string): void {
  fill(status(), h("p", {}, text));
}

/** `action` was refused: the code, the message and every detail the service sent. */
export function sayRefused(action: string, err: unknown): void {
  const d = describeError(err);
  const facts: [string, string][] = [["code", d.code]];
  if (d.reason) facts.push(["reason", d.reason]);
  if (d.domain) facts.push(["domain", d.domain]);
  for (const [key, value] of d.metadata) facts.push([key, value]);
  if (d.retryAfterMs !== undefined) facts.push(["retry after", `${d.retryAfterMs / 1000} s`]);
  fill(
    error(),
    h(
      "div",
      { class: "refusal" },
      h("h2", {}, `${action}: refused`),
      h("p", {}, d.message),
      h("dl", {}, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, h("code", k === "reason" ? { class: "reason" } : {}, v))])),
      d.violations.length > 0 && h("ul", { class: "violations", "aria-label": "Details" }, ...d.violations.map((v) => h("li", {}, v))),
      h("button", { type: "button", onclick: () => fill(error()) }, "Dismiss"),
    ),
  );
}

/** A mistake caught on the page before any call (nothing to send). */
export function sayInvalid(text: string): void {
  fill(error(), h("div", { class: "refusal" }, h("p", {}, text), h("button", { type: "button", onclick: () => fill(error()) }, "Dismiss")));
}
