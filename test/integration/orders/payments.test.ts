/**
 * ReportPayment (README "Payments"): the payment system reports what
 * happened to an order's payment and the order's payment moves by the
 * payment table; each report is one version and one OrderPaymentReported
 * event; reports are idempotent by provider_event_id (orders.payment_reports,
 * checked under the order's row lock); a report the payment cannot take is
 * refused and changes nothing. A cancellation with money captured makes a
 * refund due in the same commit (OrderCancelled, then OrderRefundDue one
 * version later), and so does a capture on an order already cancelled.
 * With REQUIRE_CAPTURE_BEFORE_FULFILMENT, PROCESSING needs the whole total
 * captured. Only admins and services may report. On real Postgres, concurrent
 * duplicates change the order once and concurrent captures never pass what is
 * authorised.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Money } from "../../../gen/common/v1/money_pb.js";
import { OrderCancelledSchema, OrderPaymentReportedSchema, OrderRefundDueSchema } from "../../../gen/orders/v1/order_events_pb.js";
import { OrderService, OrderStatus, PaymentEventKind, PaymentStatus, type Order } from "../../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { rowsOf } from "../../../src/platform/db.js";
import { customer, STAFF } from "../../support/auth.js";
import { onRealPostgres } from "../../support/db.js";
import { errorInfoOf, fieldViolationsOf, rpcFailure } from "../../support/rpc-errors.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

const PRICE = 1000n;
const PAYMENT_REPORTED = "orders.v1.OrderPaymentReported";
const REFUND_DUE = "orders.v1.OrderRefundDue";
const CANCELLED = "orders.v1.OrderCancelled";
/** Who h.orders calls as (asPermitted: admins may report). */
const ADMIN_ACTOR = "admin:test-admin";

const { AUTHORIZED, CAPTURED, REFUNDED, VOIDED } = PaymentEventKind;

/** A confirmed order of `quantity` units at PRICE (EUR), total PRICE × quantity. */
async function placeOrder(quantity = 1, harness: OrdersHarness = h) {
  const [productId, customerId] = [await newProduct(harness, 1000, PRICE), await newCustomer(harness)];
  const { order } = await harness.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity }] });
  expect(order!.status).toBe(OrderStatus.CONFIRMED);
  expect(fmt(order!.total)).toBe(`${PRICE * BigInt(quantity)} EUR`);
  return { order: order!, customerId };
}

let evtSeq = 0;
const eventId = () => `evt_${process.pid}_${Date.now().toString(36)}_${evtSeq++}`;

interface Report {
  kind: PaymentEventKind;
  amount?: bigint;
  currency?: string;
  id?: string;
  reason?: string;
  etag?: string;
}

const requestOf = (orderId: string, r: Report) => ({
  orderId,
  providerEventId: r.id ?? eventId(),
  kind: r.kind,
  amount: r.amount === undefined ? undefined : { currencyCode: r.currency ?? "EUR", amountMinor: r.amount },
  reason: r.reason ?? "",
  etag: r.etag ?? "",
});

const reportVia = (client: Client<typeof OrderService>, orderId: string, r: Report) => client.reportPayment(requestOf(orderId, r));

async function report(orderId: string, r: Report, harness: OrdersHarness = h): Promise<Order> {
  const { order } = await reportVia(harness.orders, orderId, r);
  expect(order).toBeDefined();
  return order!;
}

/** An amount; unset means zero (the contract), in the order's currency (EUR here). */
const fmt = (m: Money | undefined) => (m ? `${m.amountMinor} ${m.currencyCode}` : "0 EUR");

/** The order's payment, readable: status name and each amount as "<minor> <currency>". */
function paymentOf(o: Order | undefined) {
  const p = o?.payment;
  if (!p) return undefined;
  return {
    status: PaymentStatus[p.status],
    authorized: fmt(p.authorized),
    captured: fmt(p.captured),
    refunded: fmt(p.refunded),
    refundPending: fmt(p.refundPending),
  };
}

const pay = (status: keyof typeof PaymentStatus, authorized: bigint, captured: bigint, refunded = 0n, refundPending = 0n) => ({
  status,
  authorized: `${authorized} EUR`,
  captured: `${captured} EUR`,
  refunded: `${refunded} EUR`,
  refundPending: `${refundPending} EUR`,
});

interface StoredEvent {
  type: string;
  version: number;
  payload: JsonValue;
}

/** The order's outbox events after `afterVersion`, in commit order. */
async function eventsOf(orderId: string, afterVersion = 0, harness: OrdersHarness = h): Promise<StoredEvent[]> {
  const rows = rowsOf<{ type: string; version: number; payload: string | JsonValue }>(
    await harness.database.db.execute(
      sql`select event_type as type, version, payload from orders.outbox where aggregate_id = ${orderId}::uuid and version > ${afterVersion} order by id`,
    ),
  );
  return rows.map((r) => ({ type: r.type, version: Number(r.version), payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as JsonValue) : r.payload }));
}

/** The order's stored payment reports, oldest first. */
async function reportRowsOf(orderId: string, harness: OrdersHarness = h) {
  const rows = rowsOf<{ id: string; kind: string; currency: string; amount: string; reason: string; actor: string; version: number }>(
    await harness.database.db.execute(
      sql`select provider_event_id as id, kind, currency, amount_minor::text as amount, reason, actor, version
          from orders.payment_reports where order_id = ${orderId}::uuid order by version`,
    ),
  );
  return rows.map((r) => ({ ...r, version: Number(r.version) }));
}

async function reportRowsWithId(providerEventId: string) {
  const rows = rowsOf<{ n: number }>(
    await h.database.db.execute(sql`select count(*)::int as n from orders.payment_reports where provider_event_id = ${providerEventId}`),
  );
  return Number(rows[0]!.n);
}

async function versionOf(orderId: string, harness: OrdersHarness = h): Promise<number> {
  const rows = rowsOf<{ version: number }>(await harness.database.db.execute(sql`select version from orders.orders where id = ${orderId}::uuid`));
  return Number(rows[0]!.version);
}

/** What must not move when a report is refused. */
async function snapshot(orderId: string, harness: OrdersHarness = h) {
  const o = (await harness.orders.getOrder({ orderId })).order!;
  return {
    etag: o.etag,
    status: OrderStatus[o.status],
    payment: paymentOf(o),
    version: await versionOf(orderId, harness),
    events: (await eventsOf(orderId, 0, harness)).length,
    reports: (await reportRowsOf(orderId, harness)).length,
  };
}

const decodeReported = (e: StoredEvent) => {
  expect(e.type).toBe(PAYMENT_REPORTED);
  const m = fromJson(OrderPaymentReportedSchema, e.payload);
  return { version: m.version, providerEventId: m.providerEventId, kind: PaymentEventKind[m.kind], amount: m.amount ? fmt(m.amount) : "unset", reason: m.reason, actor: m.actor, order: m.order };
};

describe("ReportPayment: the payment moves", () => {
  it("authorises, then captures in a second report; GetOrder, the events and the report rows agree", async () => {
    const { order } = await placeOrder(2); // total 2000 EUR
    expect(paymentOf(order)).toEqual(pay("PENDING", 0n, 0n));
    const v0 = await versionOf(order.id);
    const [authId, capId] = [eventId(), eventId()];

    const authorized = await report(order.id, { kind: AUTHORIZED, amount: 2000n, id: authId, reason: "card ok" });
    expect(paymentOf(authorized)).toEqual(pay("AUTHORIZED", 2000n, 0n));
    expect(authorized.status).toBe(OrderStatus.CONFIRMED); // the order's status is apart from its payment
    expect(authorized.etag).not.toBe(order.etag);
    expect(paymentOf((await h.orders.getOrder({ orderId: order.id })).order)).toEqual(pay("AUTHORIZED", 2000n, 0n));

    const captured = await report(order.id, { kind: CAPTURED, amount: 2000n, id: capId });
    expect(paymentOf(captured)).toEqual(pay("CAPTURED", 2000n, 2000n));
    expect(captured.etag).not.toBe(authorized.etag);
    const got = (await h.orders.getOrder({ orderId: order.id })).order!;
    expect(paymentOf(got)).toEqual(pay("CAPTURED", 2000n, 2000n));
    expect(got.etag).toBe(captured.etag);
    expect(await versionOf(order.id)).toBe(v0 + 2);

    const events = await eventsOf(order.id, v0);
    expect(events.map((e) => [e.type, e.version])).toEqual([
      [PAYMENT_REPORTED, v0 + 1],
      [PAYMENT_REPORTED, v0 + 2],
    ]);
    const [a, c] = events.map(decodeReported);
    expect({ ...a, order: undefined }).toEqual({
      version: v0 + 1,
      providerEventId: authId,
      kind: "AUTHORIZED",
      amount: "2000 EUR",
      reason: "card ok",
      actor: ADMIN_ACTOR,
      order: undefined,
    });
    expect(paymentOf(a.order)).toEqual(pay("AUTHORIZED", 2000n, 0n));
    expect(a.order!.etag).toBe(authorized.etag);
    expect({ ...c, order: undefined }).toEqual({
      version: v0 + 2,
      providerEventId: capId,
      kind: "CAPTURED",
      amount: "2000 EUR",
      reason: "",
      actor: ADMIN_ACTOR,
      order: undefined,
    });
    expect(paymentOf(c.order)).toEqual(pay("CAPTURED", 2000n, 2000n));
    expect(c.order!.etag).toBe(captured.etag);

    expect(await reportRowsOf(order.id)).toEqual([
      { id: authId, kind: "AUTHORIZED", currency: "EUR", amount: "2000", reason: "card ok", actor: ADMIN_ACTOR, version: v0 + 1 },
      { id: capId, kind: "CAPTURED", currency: "EUR", amount: "2000", reason: "", actor: ADMIN_ACTOR, version: v0 + 2 },
    ]);
  });

  it("a partial capture is PARTIALLY_CAPTURED, the rest makes it CAPTURED", async () => {
    const { order } = await placeOrder(3); // 3000
    await report(order.id, { kind: AUTHORIZED, amount: 3000n });
    const part = await report(order.id, { kind: CAPTURED, amount: 1200n });
    expect(paymentOf(part)).toEqual(pay("PARTIALLY_CAPTURED", 3000n, 1200n));
    const rest = await report(order.id, { kind: CAPTURED, amount: 1800n });
    expect(paymentOf(rest)).toEqual(pay("CAPTURED", 3000n, 3000n));
    expect((await eventsOf(order.id)).filter((e) => e.type === PAYMENT_REPORTED)).toHaveLength(3);
  });

  it("a one-step sale (CAPTURED with nothing authorised) authorises its own amount", async () => {
    const { order } = await placeOrder(2);
    const sold = await report(order.id, { kind: CAPTURED, amount: 2000n });
    expect(paymentOf(sold)).toEqual(pay("CAPTURED", 2000n, 2000n));
    const partSale = await report((await placeOrder(2)).order.id, { kind: CAPTURED, amount: 500n });
    expect(paymentOf(partSale)).toEqual(pay("PARTIALLY_CAPTURED", 500n, 500n));
  });

  it("a partial refund is PARTIALLY_REFUNDED, the rest REFUNDED", async () => {
    const { order } = await placeOrder(2);
    await report(order.id, { kind: CAPTURED, amount: 2000n });
    const v = await versionOf(order.id);
    const part = await report(order.id, { kind: REFUNDED, amount: 700n, reason: "one item returned" });
    expect(paymentOf(part)).toEqual(pay("PARTIALLY_REFUNDED", 2000n, 2000n, 700n));
    const rest = await report(order.id, { kind: REFUNDED, amount: 1300n });
    expect(paymentOf(rest)).toEqual(pay("REFUNDED", 2000n, 2000n, 2000n));
    expect(paymentOf((await h.orders.getOrder({ orderId: order.id })).order)).toEqual(pay("REFUNDED", 2000n, 2000n, 2000n));
    const events = (await eventsOf(order.id, v)).map(decodeReported);
    expect(events.map((e) => [e.version, e.kind, e.amount, e.reason])).toEqual([
      [v + 1, "REFUNDED", "700 EUR", "one item returned"],
      [v + 2, "REFUNDED", "1300 EUR", ""],
    ]);
    // REFUNDED is final.
    await expectFailure(report(order.id, { kind: CAPTURED, amount: 1n }), Code.FailedPrecondition, "ILLEGAL_PAYMENT_TRANSITION");
  });

  it("VOIDED releases what is authorised; the event carries no amount", async () => {
    const { order } = await placeOrder(1);
    await report(order.id, { kind: AUTHORIZED, amount: 1000n });
    const voided = await report(order.id, { kind: VOIDED, reason: "customer abandoned" });
    expect(paymentOf(voided)).toEqual(pay("VOIDED", 0n, 0n));
    const [last] = (await eventsOf(order.id, (await versionOf(order.id)) - 1)).map(decodeReported);
    expect(last).toMatchObject({ kind: "VOIDED", amount: "unset", reason: "customer abandoned" });
    // A new authorisation may follow a void.
    expect(paymentOf(await report(order.id, { kind: AUTHORIZED, amount: 1000n }))).toEqual(pay("AUTHORIZED", 1000n, 0n));
  });
});

describe("ReportPayment: idempotent by provider_event_id", () => {
  it("a repeat of the same report changes nothing and answers the order as it is", async () => {
    const { order } = await placeOrder(2);
    const id = eventId();
    const r: Report = { kind: CAPTURED, amount: 1500n, id, reason: "webhook" };
    const first = await report(order.id, r);
    const before = await snapshot(order.id);
    expect(before.reports).toBe(1);

    const again = await report(order.id, r);
    expect(again.etag).toBe(first.etag);
    expect(again.updateTime).toEqual(first.updateTime);
    expect(paymentOf(again)).toEqual(pay("PARTIALLY_CAPTURED", 1500n, 1500n));
    expect(await snapshot(order.id)).toEqual(before);
    expect(await reportRowsWithId(id)).toBe(1);

    // Even with the etag the first try was sent with (now stale): the first try may have answered lost.
    const retried = await report(order.id, { ...r, etag: order.etag });
    expect(retried.etag).toBe(first.etag);
    expect(await snapshot(order.id)).toEqual(before);

    // After a later change, a repeat answers the order as it is now, and still changes nothing.
    const later = await report(order.id, { kind: AUTHORIZED, amount: 500n });
    const repeatLater = await report(order.id, r);
    expect(repeatLater.etag).toBe(later.etag);
    expect(paymentOf(repeatLater)).toEqual(pay("PARTIALLY_CAPTURED", 2000n, 1500n));
    expect((await eventsOf(order.id)).filter((e) => e.type === PAYMENT_REPORTED)).toHaveLength(2);
  });

  it("the same provider_event_id with another amount, reason or kind, or for another order, is IDEMPOTENCY_KEY_REUSED", async () => {
    const { order } = await placeOrder(2);
    const { order: other } = await placeOrder(2);
    const id = eventId();
    await report(order.id, { kind: AUTHORIZED, amount: 1000n, id });
    const [before, otherBefore] = [await snapshot(order.id), await snapshot(other.id)];

    for (const changed of [
      { kind: AUTHORIZED, amount: 900n, id },
      { kind: AUTHORIZED, amount: 1000n, id, reason: "different" },
      { kind: CAPTURED, amount: 1000n, id },
    ]) {
      const err = await expectFailure(report(order.id, changed), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
      expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(["provider_event_id"]);
    }
    await expectFailure(report(other.id, { kind: AUTHORIZED, amount: 1000n, id }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
    expect(await snapshot(order.id)).toEqual(before);
    expect(await snapshot(other.id)).toEqual(otherBefore);
    expect(await reportRowsWithId(id)).toBe(1);
  });
});

describe("ReportPayment: refusals change nothing", () => {
  /** Fails with code and reason, and leaves the order exactly as it was. */
  async function refused(orderId: string, r: Report, code: Code, reason: string) {
    const before = await snapshot(orderId);
    const err = await expectFailure(report(orderId, r), code, reason);
    expect(await snapshot(orderId)).toEqual(before);
    return err;
  }
  const metadataOf = (err: Awaited<ReturnType<typeof refused>>) => ({ ...errorInfoOf(err)?.metadata });

  it("refuses amounts past their limits with the limit named", async () => {
    const { order } = await placeOrder(2); // 2000
    let err = await refused(order.id, { kind: AUTHORIZED, amount: 2001n }, Code.FailedPrecondition, "PAYMENT_EXCEEDS_TOTAL");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "PENDING", kind: "AUTHORIZED", limitMinor: "2000" });
    err = await refused(order.id, { kind: CAPTURED, amount: 2001n }, Code.FailedPrecondition, "PAYMENT_EXCEEDS_TOTAL");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "PENDING", kind: "CAPTURED", limitMinor: "2000" });

    await report(order.id, { kind: AUTHORIZED, amount: 1000n });
    err = await refused(order.id, { kind: CAPTURED, amount: 1001n }, Code.FailedPrecondition, "CAPTURE_EXCEEDS_AUTHORIZED");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "AUTHORIZED", kind: "CAPTURED", limitMinor: "1000" });
    err = await refused(order.id, { kind: AUTHORIZED, amount: 1001n }, Code.FailedPrecondition, "PAYMENT_EXCEEDS_TOTAL");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "AUTHORIZED", limitMinor: "1000" });

    await report(order.id, { kind: CAPTURED, amount: 600n });
    err = await refused(order.id, { kind: REFUNDED, amount: 601n }, Code.FailedPrecondition, "REFUND_EXCEEDS_CAPTURED");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "PARTIALLY_CAPTURED", kind: "REFUNDED", limitMinor: "600" });
    err = await refused(order.id, { kind: CAPTURED, amount: 401n }, Code.FailedPrecondition, "CAPTURE_EXCEEDS_AUTHORIZED");
    expect(metadataOf(err)).toMatchObject({ limitMinor: "400" });
    // The limits are inclusive.
    expect(paymentOf(await report(order.id, { kind: CAPTURED, amount: 400n }))).toEqual(pay("PARTIALLY_CAPTURED", 1000n, 1000n));
    expect(paymentOf(await report(order.id, { kind: REFUNDED, amount: 1000n }))).toEqual(pay("REFUNDED", 1000n, 1000n, 1000n));
  });

  it("refuses a kind the payment status does not take, naming the status", async () => {
    const { order } = await placeOrder(1);
    let err = await refused(order.id, { kind: VOIDED }, Code.FailedPrecondition, "ILLEGAL_PAYMENT_TRANSITION");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "PENDING", kind: "VOIDED" });
    err = await refused(order.id, { kind: REFUNDED, amount: 100n }, Code.FailedPrecondition, "ILLEGAL_PAYMENT_TRANSITION");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "PENDING", kind: "REFUNDED" });
    await report(order.id, { kind: AUTHORIZED, amount: 1000n });
    err = await refused(order.id, { kind: REFUNDED, amount: 100n }, Code.FailedPrecondition, "ILLEGAL_PAYMENT_TRANSITION");
    expect(metadataOf(err)).toMatchObject({ paymentStatus: "AUTHORIZED", kind: "REFUNDED" });
  });

  it("refuses an amount in another currency, a missing amount, and an unknown order", async () => {
    const { order } = await placeOrder(1);
    const err = await refused(order.id, { kind: CAPTURED, amount: 500n, currency: "USD" }, Code.InvalidArgument, "CURRENCY_MISMATCH");
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(["amount.currency_code"]);

    const missing = await refused(order.id, { kind: CAPTURED }, Code.InvalidArgument, "INVALID_REQUEST");
    expect(fieldViolationsOf(missing).map((v) => v.field)).toContain("amount");
    const zero = await refused(order.id, { kind: AUTHORIZED, amount: 0n }, Code.InvalidArgument, "INVALID_REQUEST");
    expect(fieldViolationsOf(zero).map((v) => v.field)).toContain("amount");
    const extra = await refused(order.id, { kind: VOIDED, amount: 10n }, Code.InvalidArgument, "INVALID_REQUEST");
    expect(fieldViolationsOf(extra).map((v) => v.field)).toContain("amount");

    const unknown = "77777777-7777-4777-8777-777777777777";
    await expectFailure(report(unknown, { kind: CAPTURED, amount: 100n }), Code.NotFound, "ORDER_NOT_FOUND");
    expect(await reportRowsOf(unknown)).toEqual([]);
  });

  it("refuses a stale etag (ETAG_MISMATCH)", async () => {
    const { order } = await placeOrder(1);
    const moved = await report(order.id, { kind: AUTHORIZED, amount: 400n, etag: order.etag });
    await refused(order.id, { kind: AUTHORIZED, amount: 100n, etag: order.etag }, Code.Aborted, "ETAG_MISMATCH");
    expect(paymentOf(await report(order.id, { kind: AUTHORIZED, amount: 100n, etag: moved.etag }))).toEqual(pay("AUTHORIZED", 500n, 0n));
  });
});

describe("refunds falling due", () => {
  it("cancelling an order with money captured owes it back: OrderCancelled, then OrderRefundDue, one commit", async () => {
    const { order } = await placeOrder(2);
    await report(order.id, { kind: CAPTURED, amount: 2000n });
    const v = await versionOf(order.id);

    const cancelled = (await h.orders.cancelOrder({ orderId: order.id, reason: "changed my mind" })).order!;
    expect(cancelled.status).toBe(OrderStatus.CANCELLED);
    expect(paymentOf(cancelled)).toEqual(pay("CAPTURED", 2000n, 2000n, 0n, 2000n));
    expect(paymentOf((await h.orders.getOrder({ orderId: order.id })).order)).toEqual(pay("CAPTURED", 2000n, 2000n, 0n, 2000n));
    expect(await versionOf(order.id)).toBe(v + 2);

    const events = await eventsOf(order.id, v);
    expect(events.map((e) => [e.type, e.version])).toEqual([
      [CANCELLED, v + 1],
      [REFUND_DUE, v + 2],
    ]);
    const cancel = fromJson(OrderCancelledSchema, events[0]!.payload);
    expect(cancel.version).toBe(v + 1);
    expect(cancel.order!.status).toBe(OrderStatus.CANCELLED);
    expect(paymentOf(cancel.order)).toEqual(pay("CAPTURED", 2000n, 2000n)); // nothing owed yet at that version
    const due = fromJson(OrderRefundDueSchema, events[1]!.payload);
    expect({ version: due.version, amount: fmt(due.amount), reason: due.reason }).toEqual({ version: v + 2, amount: "2000 EUR", reason: "order cancelled" });
    expect(paymentOf(due.order)).toEqual(pay("CAPTURED", 2000n, 2000n, 0n, 2000n));
    expect(due.order!.etag).toBe(cancelled.etag);

    // A repeated cancel owes nothing more.
    expect((await h.orders.cancelOrder({ orderId: order.id })).order!.etag).toBe(cancelled.etag);

    // The payment system refunds, in two parts: each lowers what is pending; no new refund falls due.
    const part = await report(order.id, { kind: REFUNDED, amount: 500n });
    expect(paymentOf(part)).toEqual(pay("PARTIALLY_REFUNDED", 2000n, 2000n, 500n, 1500n));
    const done = await report(order.id, { kind: REFUNDED, amount: 1500n });
    expect(paymentOf(done)).toEqual(pay("REFUNDED", 2000n, 2000n, 2000n, 0n));
    expect(done.status).toBe(OrderStatus.CANCELLED);
    expect((await eventsOf(order.id, v + 2)).map((e) => [e.type, e.version])).toEqual([
      [PAYMENT_REPORTED, v + 3],
      [PAYMENT_REPORTED, v + 4],
    ]);
  });

  it("cancelling an unpaid or only authorised order owes nothing", async () => {
    const { order } = await placeOrder(1);
    await report(order.id, { kind: AUTHORIZED, amount: 1000n });
    const v = await versionOf(order.id);
    const cancelled = (await h.orders.cancelOrder({ orderId: order.id })).order!;
    expect(paymentOf(cancelled)).toEqual(pay("AUTHORIZED", 1000n, 0n));
    expect((await eventsOf(order.id, v)).map((e) => e.type)).toEqual([CANCELLED]);
  });

  it("a capture reported on an order already cancelled falls due at once", async () => {
    const { order } = await placeOrder(2);
    await h.orders.cancelOrder({ orderId: order.id, reason: "out of time" });
    const v = await versionOf(order.id);
    const id = eventId();

    const captured = await report(order.id, { kind: CAPTURED, amount: 2000n, id });
    expect(captured.status).toBe(OrderStatus.CANCELLED);
    expect(paymentOf(captured)).toEqual(pay("CAPTURED", 2000n, 2000n, 0n, 2000n));
    const events = await eventsOf(order.id, v);
    expect(events.map((e) => [e.type, e.version])).toEqual([
      [PAYMENT_REPORTED, v + 1],
      [REFUND_DUE, v + 2],
    ]);
    const reported = decodeReported(events[0]!);
    expect(reported).toMatchObject({ version: v + 1, providerEventId: id, kind: "CAPTURED", amount: "2000 EUR" });
    expect(paymentOf(reported.order)).toEqual(pay("CAPTURED", 2000n, 2000n));
    const due = fromJson(OrderRefundDueSchema, events[1]!.payload);
    expect({ version: due.version, amount: fmt(due.amount) }).toEqual({ version: v + 2, amount: "2000 EUR" });
    expect(due.reason).not.toBe("");
    expect(due.order!.etag).toBe(captured.etag);
    // The report is stored at its own version, and a repeat changes nothing.
    expect((await reportRowsOf(order.id)).map((r) => [r.id, r.version])).toEqual([[id, v + 1]]);
    expect((await report(order.id, { kind: CAPTURED, amount: 2000n, id })).etag).toBe(captured.etag);
    expect(await eventsOf(order.id, v + 2)).toEqual([]);
  });
});

describe("REQUIRE_CAPTURE_BEFORE_FULFILMENT", () => {
  let strict: OrdersHarness;
  beforeAll(async () => {
    strict = await createOrdersHarness({ config: { requireCaptureBeforeFulfilment: true } });
  });
  afterAll(() => strict?.close());

  it("on: PROCESSING waits for the whole total to be captured", async () => {
    const { order } = await placeOrder(2, strict);
    const toProcessing = () => strict.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING });

    let before = await snapshot(order.id, strict);
    let err = await expectFailure(toProcessing(), Code.FailedPrecondition, "PAYMENT_NOT_CAPTURED");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ paymentStatus: "PENDING" });
    expect(await snapshot(order.id, strict)).toEqual(before);

    await report(order.id, { kind: AUTHORIZED, amount: 2000n }, strict);
    before = await snapshot(order.id, strict);
    err = await expectFailure(toProcessing(), Code.FailedPrecondition, "PAYMENT_NOT_CAPTURED");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ paymentStatus: "AUTHORIZED" });
    expect(await snapshot(order.id, strict)).toEqual(before);

    await report(order.id, { kind: CAPTURED, amount: 1999n }, strict);
    err = await expectFailure(toProcessing(), Code.FailedPrecondition, "PAYMENT_NOT_CAPTURED");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ paymentStatus: "PARTIALLY_CAPTURED" });

    await report(order.id, { kind: CAPTURED, amount: 1n }, strict);
    const processing = (await toProcessing()).order!;
    expect(processing.status).toBe(OrderStatus.PROCESSING);
    expect(PaymentStatus[processing.payment!.status]).toBe("CAPTURED");
  });

  it("off (the default): PROCESSING works unpaid", async () => {
    const { order } = await placeOrder(1);
    const processing = (await h.orders.updateOrderStatus({ orderId: order.id, status: OrderStatus.PROCESSING })).order!;
    expect(processing.status).toBe(OrderStatus.PROCESSING);
    expect(paymentOf(processing)).toEqual(pay("PENDING", 0n, 0n));
  });
});

describe("who may report", () => {
  it("customers (even the order's owner) and staff may not; admins and services may", async () => {
    const { order, customerId } = await placeOrder(2);
    const before = await snapshot(order.id);
    for (const caller of [customer(customerId), STAFF]) {
      await expectFailure(reportVia(h.as(caller).orders, order.id, { kind: CAPTURED, amount: 100n }), Code.PermissionDenied, "ROLE_NOT_PERMITTED");
    }
    expect(await snapshot(order.id)).toEqual(before);

    const id = eventId();
    const { order: after } = await reportVia(h.as(servicePrincipal("payments")).orders, order.id, { kind: CAPTURED, amount: 100n, id });
    expect(paymentOf(after)).toEqual(pay("PARTIALLY_CAPTURED", 100n, 100n));
    const [reported] = (await eventsOf(order.id, before.version)).map(decodeReported);
    expect(reported).toMatchObject({ providerEventId: id, actor: "service:payments" });
    expect((await reportRowsOf(order.id)).map((r) => r.actor)).toEqual(["service:payments"]);
  });
});

describe.skipIf(!onRealPostgres)("concurrent reports (real Postgres)", () => {
  it("20 concurrent copies of one report change the order once and all answer it", async () => {
    const { order } = await placeOrder(1);
    const v = await versionOf(order.id);
    const id = eventId();
    const answers = await Promise.all(Array.from({ length: 20 }, () => report(order.id, { kind: CAPTURED, amount: 1000n, id })));
    expect(new Set(answers.map((o) => o.etag)).size).toBe(1);
    for (const o of answers) expect(paymentOf(o)).toEqual(pay("CAPTURED", 1000n, 1000n));
    expect(await reportRowsWithId(id)).toBe(1);
    expect((await eventsOf(order.id, v)).map((e) => [e.type, e.version])).toEqual([[PAYMENT_REPORTED, v + 1]]);
    expect(await versionOf(order.id)).toBe(v + 1);
    expect((await h.orders.getOrder({ orderId: order.id })).order!.etag).toBe(answers[0]!.etag);
  });

  it("one provider_event_id reported for 10 orders at once: one order takes it, the others are refused", async () => {
    const orders = await Promise.all(Array.from({ length: 10 }, async () => (await placeOrder(1)).order));
    const id = eventId();
    const outcomes = await Promise.allSettled(orders.map((o) => report(o.id, { kind: CAPTURED, amount: 1000n, id })));
    const taken = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [orders[i]!.id] : []));
    expect(taken).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "fulfilled") continue;
      const err = await rpcFailure(Promise.reject(o.reason as Error));
      expect({ code: Code[err.code], reason: errorInfoOf(err)?.reason }).toEqual({ code: "InvalidArgument", reason: "IDEMPOTENCY_KEY_REUSED" });
    }
    expect(await reportRowsWithId(id)).toBe(1);
    for (const o of orders) {
      const expected = o.id === taken[0] ? pay("CAPTURED", 1000n, 1000n) : pay("PENDING", 0n, 0n);
      expect(paymentOf((await h.orders.getOrder({ orderId: o.id })).order)).toEqual(expected);
      expect((await eventsOf(o.id)).filter((e) => e.type === PAYMENT_REPORTED)).toHaveLength(o.id === taken[0] ? 1 : 0);
    }
  });

  it("20 concurrent captures of 100 against 1000 authorised: exactly 10 pass", async () => {
    const { order } = await placeOrder(2); // total 2000, so the payment stays PARTIALLY_CAPTURED and takes captures
    await report(order.id, { kind: AUTHORIZED, amount: 1000n });
    const v = await versionOf(order.id);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => report(order.id, { kind: CAPTURED, amount: 100n })));
    const ok = outcomes.filter((o) => o.status === "fulfilled");
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(ok).toHaveLength(10);
    for (const f of failed) {
      const err = await rpcFailure(Promise.reject(f.reason as Error));
      expect({ code: Code[err.code], reason: errorInfoOf(err)?.reason }).toEqual({ code: "FailedPrecondition", reason: "CAPTURE_EXCEEDS_AUTHORIZED" });
    }
    const after = (await h.orders.getOrder({ orderId: order.id })).order!;
    expect(paymentOf(after)).toEqual(pay("PARTIALLY_CAPTURED", 1000n, 1000n));
    const events = await eventsOf(order.id, v);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 10 }, (_, i) => v + i + 1));
    expect(events.every((e) => e.type === PAYMENT_REPORTED)).toBe(true);
    expect((await reportRowsOf(order.id)).filter((r) => r.kind === "CAPTURED")).toHaveLength(10);
  });
});
