/**
 * Every change an order can make (each DecidedEvent kind, each kind of
 * CHANGED, and the creation) has a timeline entry (domain/timeline.ts) whose
 * type is the type of the event the relay publishes for it
 * (rpc/order-events.ts), with its version, time and actor; the lines people
 * read; notes, tags and metadata staff only.
 */
import { describe, expect, it } from "vitest";
import { money } from "../../../src/orders/domain/money.js";
import type { Order } from "../../../src/orders/domain/order.js";
import { formatMoney, timelineEntryOf, type TimelineSource } from "../../../src/orders/domain/timeline.js";
import { decide, type DecidedEvent, type OrderCommand } from "../../../src/orders/domain/transition.js";
import { orderEvent } from "../../../src/orders/rpc/order-events.js";
import { decided, orderFixture, T1 } from "./order-fixture.js";

const meta = { at: T1, actor: "staff:ann" };
const info = { carrier: "DHL", trackingNumber: "00340434" };

/** The events of running `cmds` on `order`, one after the other. */
function run(order: Order, ...cmds: OrderCommand[]): DecidedEvent[] {
  let current = order;
  let events: DecidedEvent[] = [];
  for (const cmd of cmds) {
    const d = decided(decide(current, cmd, meta));
    current = d.order;
    events = [...d.events];
  }
  return events;
}

const captured = orderFixture("CONFIRMED", { payment: { status: "CAPTURED", authorizedMinor: 2500n, capturedMinor: 2500n, refundedMinor: 0n, refundPendingMinor: 0n } });
const delivered = (() => {
  const events = run(orderFixture("PROCESSING", { shippingInfo: info }), { kind: "SET_STATUS", to: "SHIPPED", reason: "" }, { kind: "SET_STATUS", to: "DELIVERED", reason: "" });
  return events[0]!.order;
})();
const partlyShipped = (() => {
  const [created] = run(orderFixture("CONFIRMED"), { kind: "CREATE_SHIPMENT", requestId: "p1", lines: [{ lineNo: 1, quantity: 1 }], shippingInfo: info });
  const [shipped] = run(created!.order, { kind: "SET_SHIPMENT_STATUS", shipmentId: created!.order.shipments[0]!.id, to: "SHIPPED", shippingInfo: undefined, reason: "" });
  return shipped!.order;
})();

/** Written out per kind, so a new kind of change fails the type check here until it has its case. */
const SAMPLES: Record<DecidedEvent["kind"] | "CREATED", () => TimelineSource[]> = {
  CREATED: () => [{ kind: "CREATED", order: orderFixture("PENDING", { version: 1, history: [{ from: undefined, to: "PENDING", reason: "", actor: "customer:c", at: T1 }] }) }],
  CHANGED: () => [
    ...run(orderFixture("CONFIRMED"), { kind: "SET_STATUS", to: "PROCESSING", reason: "picking" }),
    ...run(orderFixture("CONFIRMED"), { kind: "SET_STATUS", to: "CANCELLED", reason: "changed my mind" }),
    ...run(orderFixture("CONFIRMED"), { kind: "SET_SHIPPING_INFO", info }),
    ...run(orderFixture("CONFIRMED"), { kind: "DELETE", reason: "order deleted" }),
    ...run(orderFixture("CANCELLED"), { kind: "DELETE", reason: "order deleted" }),
  ],
  PAYMENT_REPORTED: () => run(orderFixture("CONFIRMED"), { kind: "REPORT_PAYMENT", report: { eventId: "evt-1", kind: "AUTHORIZED", amountMinor: 2500n, reason: "checkout" } }),
  REFUND_DUE: () => run(captured, { kind: "SET_STATUS", to: "CANCELLED", reason: "" }).slice(1),
  RETURN: () => run(delivered, { kind: "REQUEST_RETURN", requestId: "r1", lines: [{ lineNo: 1, quantity: 1 }], reason: "chipped", windowDays: undefined }),
  UNSHIPPED_CANCELLED: () => run(partlyShipped, { kind: "CANCEL_UNSHIPPED", reason: "out of stock" }),
  SHIPMENT: () => run(orderFixture("CONFIRMED"), { kind: "CREATE_SHIPMENT", requestId: "p1", lines: [{ lineNo: 1, quantity: 1 }], shippingInfo: info }),
  NOTE_ADDED: () => run(orderFixture("DELIVERED"), { kind: "ADD_NOTE", requestId: "n1", text: "Customer called" }),
  TAGS_CHANGED: () => run(orderFixture("CONFIRMED"), { kind: "UPDATE_TAGS", add: ["gift"], remove: [] }),
  METADATA_CHANGED: () => run(orderFixture("CONFIRMED"), { kind: "UPDATE_METADATA", set: { erp_id: "SO-4711" }, remove: [] }),
};

const cases = Object.entries(SAMPLES).flatMap(([kind, make]) => make().map((e) => [kind, e] as const));

describe("timelineEntryOf", () => {
  it.each(cases)("%s: the type of the event published for it, its version, time and actor", (kind, e) => {
    expect(e.kind).toBe(kind);
    const entry = timelineEntryOf(e);
    expect(entry.type).toBe(orderEvent(e).type);
    expect(entry.version).toBe(e.order.version);
    expect(entry.at).toEqual(e.order.updateTime);
    expect(entry.actor).toBe(e.kind === "CREATED" ? "customer:c" : "staff:ann");
    expect(entry.staffOnly).toBe(["NOTE_ADDED", "TAGS_CHANGED", "METADATA_CHANGED"].includes(kind));
    expect(entry.summary).not.toBe("");
  });

  it("says what happened in one line, creations and status changes as the migrated history does", () => {
    const said = (e: TimelineSource) => {
      const { summary, reason, subjectId, amount } = timelineEntryOf(e);
      return { summary, reason, subjectId, amount };
    };
    const [created] = SAMPLES.CREATED();
    const [processing, cancelled, shippingInfo, cancelledAndDeleted, deleted] = SAMPLES.CHANGED();
    expect(said(created!)).toEqual({ summary: "Created as PENDING", reason: "", subjectId: undefined, amount: undefined });
    expect(said(processing!)).toMatchObject({ summary: "Status CONFIRMED → PROCESSING", reason: "picking" });
    expect(said(cancelled!)).toMatchObject({ summary: "Status CONFIRMED → CANCELLED", reason: "changed my mind" });
    expect(said(shippingInfo!).summary).toBe("Shipping info DHL 00340434");
    expect(said(cancelledAndDeleted!)).toMatchObject({ summary: "Cancelled and deleted (was CONFIRMED)", reason: "order deleted" });
    expect(said(deleted!).summary).toBe("Deleted");
    expect(said(SAMPLES.PAYMENT_REPORTED()[0]!)).toEqual({
      summary: "Authorized 25.00 EUR (payment AUTHORIZED)",
      reason: "checkout",
      subjectId: "evt-1",
      amount: money("EUR", 2500n),
    });
    expect(said(SAMPLES.REFUND_DUE()[0]!)).toEqual({ summary: "Refund due 25.00 EUR", reason: "order cancelled", subjectId: undefined, amount: money("EUR", 2500n) });
    const [shipment] = SAMPLES.SHIPMENT();
    expect(said(shipment!)).toEqual({
      summary: "Shipment 1 of 2 units PENDING (DHL 00340434); Status CONFIRMED → PROCESSING",
      reason: "fulfilment started",
      subjectId: (shipment as Extract<DecidedEvent, { kind: "SHIPMENT" }>).shipments[0]!.id,
      amount: undefined,
    });
    expect(said(SAMPLES.UNSHIPPED_CANCELLED()[0]!)).toMatchObject({
      summary: "Unshipped units cancelled, 1 back to stock; Status PROCESSING → SHIPPED",
      reason: "out of stock",
    });
    const [ret] = SAMPLES.RETURN();
    expect(said(ret!)).toMatchObject({ summary: "Return of 1 unit REQUESTED", reason: "chipped", subjectId: (ret as Extract<DecidedEvent, { kind: "RETURN" }>).ret.id });
    const [note] = SAMPLES.NOTE_ADDED();
    expect(said(note!)).toMatchObject({ summary: "Note: Customer called", subjectId: (note as Extract<DecidedEvent, { kind: "NOTE_ADDED" }>).note.id });
    expect(said(SAMPLES.TAGS_CHANGED()[0]!).summary).toBe("Tags: added gift");
    expect(said(SAMPLES.METADATA_CHANGED()[0]!).summary).toBe("Metadata: set erp_id");
  });

  it("lists both sides of a tags or metadata change, and cuts a long note to its first line", () => {
    const tagged = orderFixture("CONFIRMED", { tags: ["old"], metadata: { a: "1" } });
    const [tags] = run(tagged, { kind: "UPDATE_TAGS", add: ["b", "a"], remove: ["old"] });
    expect(timelineEntryOf(tags!).summary).toBe("Tags: added a, b; removed old");
    const [md] = run(tagged, { kind: "UPDATE_METADATA", set: { b: "2" }, remove: ["a"] });
    expect(timelineEntryOf(md!).summary).toBe("Metadata: set b; removed a");
    const [twoLines] = run(tagged, { kind: "ADD_NOTE", requestId: "n", text: "Wrap it\nand add a card" });
    expect(timelineEntryOf(twoLines!).summary).toBe("Note: Wrap it…");
    const [long] = run(tagged, { kind: "ADD_NOTE", requestId: "n", text: "x".repeat(100) });
    expect(timelineEntryOf(long!).summary).toBe(`Note: ${"x".repeat(80)}…`);
  });
});

describe("formatMoney", () => {
  it("writes minor units in the currency's own digits, exactly", () => {
    expect(formatMoney(money("EUR", 1250n))).toBe("12.50 EUR");
    expect(formatMoney(money("EUR", 5n))).toBe("0.05 EUR");
    expect(formatMoney(money("JPY", 1250n))).toBe("1250 JPY");
    expect(formatMoney(money("KWD", 1250n))).toBe("1.250 KWD");
    expect(formatMoney(money("USD", 9223372036854775807n))).toBe("92233720368547758.07 USD");
    expect(formatMoney(money("EUR", -150n))).toBe("-1.50 EUR");
  });
});
