/**
 * Exhaustive: every status (with and without shipping info) × every command,
 * against an expected matrix written out here from the contract — not
 * derived from TRANSITIONS — so a wrong table fails.
 */
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { ORDER_STATUSES, TRANSITIONS, type OrderStatus } from "../../../src/orders/domain/order-status.js";
import { decide, isDecision, type OrderCommand } from "../../../src/orders/domain/transition.js";
import { orderFixture, T1 } from "./order-fixture.js";

type Expect = "ok" | "noop" | "ILLEGAL_TRANSITION" | "SHIPPING_INFO_REQUIRED" | "ORDER_FINALIZED" | "STOCK_NOT_SOLD";
const X = "ILLEGAL_TRANSITION" as const;

// prettier-ignore
/**
 * Rows: current status. Columns: requested status, in ORDER_STATUSES order. "ship" = ok only with
 * shipping info; "sold" = allowed, but only once the reservation is committed (the fixture's
 * PENDING order holds a PENDING reservation: STOCK_NOT_SOLD; see "confirming a PENDING order").
 */
const SET_STATUS: Record<OrderStatus, (Expect | "ship" | "sold")[]> = {
  //           PENDING CONFIRMED PROCESSING SHIPPED  DELIVERED CANCELLED
  PENDING:    ["noop", "sold",   X,         X,       X,        "ok"],
  CONFIRMED:  [X,      "noop",   "ok",      X,       X,        "ok"],
  PROCESSING: [X,      X,        "noop",    "ship",  X,        "ok"],
  SHIPPED:    [X,      X,        X,         "noop",  "ok",     X],
  DELIVERED:  [X,      X,        X,         X,       "noop",   X],
  CANCELLED:  [X,      X,        X,         X,       X,        "noop"],
};
const SHIPPING_INFO: Record<OrderStatus, Expect> = {
  PENDING: "ok", CONFIRMED: "ok", PROCESSING: "ok", SHIPPED: "ok", DELIVERED: "ORDER_FINALIZED", CANCELLED: "ORDER_FINALIZED",
};
const DELETE_CANCELS: Record<OrderStatus, boolean> = {
  PENDING: true, CONFIRMED: true, PROCESSING: true, SHIPPED: false, DELIVERED: false, CANCELLED: false,
};

const info = { carrier: "DHL", trackingNumber: "JD0001" };
const meta = { at: T1, actor: "alice" };
const cases = ORDER_STATUSES.flatMap((status) => [false, true].map((hasInfo) => ({ status, hasInfo })));

function expectedFor(cmd: TableCommand, status: OrderStatus, hasInfo: boolean): Expect {
  if (cmd.kind === "SET_SHIPPING_INFO") return SHIPPING_INFO[status];
  if (cmd.kind === "DELETE") return "ok";
  const e = SET_STATUS[status][ORDER_STATUSES.indexOf(cmd.to)];
  if (e === "sold") return "STOCK_NOT_SOLD";
  return e === "ship" ? (hasInfo ? "ok" : "SHIPPING_INFO_REQUIRED") : e;
}

type TableCommand = Extract<OrderCommand, { kind: "SET_STATUS" | "SET_SHIPPING_INFO" | "DELETE" }>;

const commands: TableCommand[] = [
  ...ORDER_STATUSES.map((to) => ({ kind: "SET_STATUS" as const, to, reason: "because" })),
  { kind: "SET_SHIPPING_INFO", info: { carrier: "UPS", trackingNumber: "1Z999" } },
  { kind: "DELETE", reason: "order deleted" },
];

describe("the transition table", () => {
  it("is the contract's table", () => {
    for (const from of ORDER_STATUSES) {
      const allowed = ORDER_STATUSES.filter((to, i) => ["ok", "ship", "sold"].includes(SET_STATUS[from][i]));
      expect([...TRANSITIONS[from]].sort(), from).toEqual(allowed.sort());
    }
  });
});

describe.each(cases)("an order $status (shipping info: $hasInfo)", ({ status, hasInfo }) => {
  const order = orderFixture(status, { shippingInfo: hasInfo ? info : undefined });
  it.each(commands.map((c) => ({ c, label: c.kind === "SET_STATUS" ? `→ ${c.to}` : c.kind })))("$label", ({ c }) => {
    const expected = expectedFor(c, status, hasInfo);
    const out = decide(order, c, meta);
    if (expected === "ok" || expected === "noop") {
      if (!isDecision(out)) throw out;
      expect(out.changed).toBe(expected === "ok");
      expect(out.order.version).toBe(expected === "ok" ? order.version + 1 : order.version);
      if (expected === "ok") checkApplied(order, out.order, out.changes, c);
      else expect(out.order).toBe(order);
      return;
    }
    expect(out).toBeInstanceOf(DomainError);
    const err = out as DomainError;
    expect(err.reason).toBe(expected);
    expect(err.kind).toBe("FAILED_PRECONDITION");
    const described = { SHIPPING_INFO_REQUIRED: "shipping info", STOCK_NOT_SOLD: "not committed" }[expected as string] ?? status;
    expect(err.options.preconditionViolations?.[0]?.description ?? "").toContain(described);
  });
});

describe("confirming a PENDING order", () => {
  it("needs its stock sold first: STOCK_NOT_SOLD while the reservation is held, CONFIRMED once committed", () => {
    const held = orderFixture("PENDING");
    expect((decide(held, { kind: "SET_STATUS", to: "CONFIRMED", reason: "" }, meta) as DomainError).reason).toBe("STOCK_NOT_SOLD");
    const sold = decide({ ...held, reservationState: "COMMITTED" }, { kind: "SET_STATUS", to: "CONFIRMED", reason: "stock sold" }, meta);
    if (!isDecision(sold)) throw sold;
    expect([sold.order.status, sold.order.reservationState, sold.order.version]).toEqual(["CONFIRMED", "COMMITTED", held.version + 1]);
    expect(sold.changes).toEqual([{ from: "PENDING", to: "CONFIRMED", reason: "stock sold", actor: "alice", at: T1 }]);
  });
});

function checkApplied(before: ReturnType<typeof orderFixture>, after: typeof before, changes: readonly unknown[], c: TableCommand) {
  expect(after.updateTime).toBe(T1);
  if (c.kind === "SET_SHIPPING_INFO") {
    expect(after.shippingInfo).toEqual(c.info);
    expect(changes).toEqual([]);
    return;
  }
  const to = c.kind === "SET_STATUS" ? c.to : DELETE_CANCELS[before.status] ? "CANCELLED" : before.status;
  expect(after.status).toBe(to);
  expect(after.deleted).toBe(c.kind === "DELETE");
  const entries = to === before.status ? [] : [{ from: before.status, to, reason: c.reason, actor: "alice", at: T1 }];
  expect(changes).toEqual(entries);
  expect(after.history).toEqual([...before.history, ...entries]);
  const cancelled = to === "CANCELLED" && before.status !== "CANCELLED";
  expect(after.reservationState).toBe(cancelled ? "RELEASE_PENDING" : before.reservationState);
}
