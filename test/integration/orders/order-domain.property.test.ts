/**
 * Property, model-based, over the real service: random sequences of
 * create / ReportPayment (REFUNDED reports are the refunds) / CreateShipment /
 * UpdateShipmentStatus / UpdateOrderStatus / UpdateShippingInfo /
 * CancelUnshipped / RequestReturn / UpdateReturnStatus / CancelOrder /
 * DeleteOrder, each allowed to fail (issue 14: create / pay / ship partially /
 * deliver / return / refund / cancel). A model written from the contract
 * (proto comments, the transition tables) predicts every call's outcome (OK,
 * or the code and reason) and the order it leaves; after every call the
 * stored orders (GetOrder as staff; deleted ones from the database) must
 * equal the model and keep the invariants on their own:
 *
 * - stock: per product available + held + sold = initial, nothing held, where
 *   sold = units of orders not cancelled (deleted ones included) less the
 *   units given back: the unshipped rest CancelUnshipped cancelled and the
 *   units of RECEIVED returns. Those go back through InventoryService
 *   ReturnStock after the commit; the step that made such a restock checks
 *   that it is DONE (running a reconciler pass first if it is still PENDING)
 *   and that it holds exactly the units the model says;
 * - shipments: per line, units in shipments other than CANCELLED plus units
 *   cancelled ≤ ordered; fulfilment_status is what the shipments say of the
 *   units still ordered; every shipment status is one of
 *   SHIPMENT_TRANSITIONS'; a shipped parcel has shipping info;
 * - returns: per line, units in returns other than REJECTED ≤ units
 *   delivered; known statuses, each line of the order at most once; the
 *   refund set exactly when RECEIVED, as the lines' unit prices as ordered ×
 *   units;
 * - tables: from one step to the next, the payment status moves only by a
 *   report PAYMENT_TRANSITIONS allows; a parcel appears PENDING (SHIPPED when
 *   the shortcut makes it) and a return REQUESTED, and each moves only along
 *   SHIPMENT_TRANSITIONS / RETURN_TRANSITIONS, never vanishing;
 * - payment: refunded ≤ captured ≤ authorized ≤ total, refund_pending ≤
 *   captured − refunded, nothing pending unless the order was cancelled, had
 *   its rest cancelled or received a return, and a cancelled order owes back
 *   all it kept (refund_pending = captured − refunded); the status is the
 *   one the amounts say;
 * - history: every change is allowed by TRANSITIONS, starting at PENDING,
 *   and only grows; the status agrees with fulfilment (SHIPPED ⇒ every unit
 *   still ordered shipped, DELIVERED ⇒ every one delivered, PROCESSING ⇒ not
 *   all shipped, CANCELLED ⇒ nothing in a live parcel; units cancelled ⇒
 *   SHIPPED or DELIVERED);
 * - every error is a typed client error (FAILED_PRECONDITION,
 *   INVALID_ARGUMENT, NOT_FOUND, ABORTED), never INTERNAL/UNKNOWN; a refused
 *   call or a repeat changes nothing (same etag).
 *
 * The model follows the contract where it speaks (e.g. the order follows
 * its parcels by units, not by fulfilment_status; a refund due on
 * CancelUnshipped or RECEIVED is the units' value capped at what is captured
 * and not yet refunded or owed) and the code where the contract is silent
 * (a parcel's shipping info given with DELIVERED or CANCELLED replaces its
 * own; a repeated RequestReturn is answered before its etag is looked at, a
 * repeated return status is not; a customer's RequestReturn on an order
 * with nothing delivered is RETURN_WINDOW_CLOSED before it is
 * RETURN_EXCEEDS_DELIVERED). RequestReturn and CancelUnshipped are also
 * called as the order's customer now and then (RETURN_WINDOW_DAYS is 30
 * here, so a delivery made in the run is within it).
 *
 * A failure prints its seed and its shrunk sequence: PROPERTY_SEED=<seed>
 * replays it; PROPERTY_RUNS=<n> runs more; PROPERTY_STATS=1 prints how often
 * each call ended how (and how each restock was settled). A bug it found is
 * pinned by the last test.
 */
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Money } from "../../../gen/common/v1/money_pb.js";
import {
  FulfilmentStatus,
  OrderStatus,
  PaymentEventKind,
  PaymentStatus,
  ReturnStatus,
  ShipmentStatus,
  type Order,
  type ReportPaymentRequestSchema,
} from "../../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { SHIPMENT_STATUSES, SHIPMENT_TRANSITIONS, type ShipmentStatus as ShStatus } from "../../../src/orders/domain/fulfilment.js";
import { ORDER_STATUSES, TRANSITIONS, type OrderStatus as Status } from "../../../src/orders/domain/order-status.js";
import { PAYMENT_EVENT_KINDS, PAYMENT_TRANSITIONS, type PaymentEventKind as Kind, type PaymentStatus as PayStatus } from "../../../src/orders/domain/payment.js";
import { RETURN_STATUSES, RETURN_TRANSITIONS, type ReturnStatus as RStatus } from "../../../src/orders/domain/returns.js";
import { rowsOf } from "../../../src/platform/db.js";
import { STAFF, customer } from "../../support/auth.js";
import { preconditionViolationsOf, reasonOf } from "../../support/rpc-errors.js";
import { testConfig } from "../../support/servers.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";

const INITIAL = 12;
/** Prices of the run's three products (EUR minor units): small, tiny, huge. */
const PRICES = [199n, 1n, 123_456_789_012n];
const INFOS = [
  { carrier: "DHL", trackingNumber: "T-1" },
  { carrier: "UPS", trackingNumber: "T-2" },
] as const;
const CLIENT_CODES = ["FailedPrecondition", "InvalidArgument", "NotFound", "Aborted"];

// ---------------------------------------------------------------- operations

type EtagUse = "none" | "current" | "stale";
/** An amount relative to the order when the op runs: at, under or past the kind's limit, a share of the total, what is owed back (refund_pending, at least 1), or 1. */
type AmountSpec = { k: "limit"; d: -1 | 0 | 1 } | { k: "quarter"; n: number } | { k: "owed" } | { k: "one" };
/** The provider event id: fresh, an earlier report repeated exactly, or an earlier id with this op's report. */
type EventIdUse = { k: "fresh" } | { k: "repeat"; j: number } | { k: "reuse"; j: number };
/** The shipment's request id: fresh, an earlier CreateShipment repeated exactly, a small per-order pool, or the shortcut's own ids. */
type ReqIdUse = { k: "fresh" } | { k: "repeat"; j: number } | { k: "pool"; n: number } | { k: "shortcut"; v: number };
type Qty = { k: "n"; n: number } | { k: "rest" };
/** Units to return of a line: at, under or past what can still be returned of it (delivered less in returns not REJECTED; at least 1), or a number. */
type RetQty = { k: "limit"; d: -1 | 0 | 1 } | { k: "n"; n: number };
/** The return's request id: fresh, an earlier RequestReturn repeated exactly, an earlier one's (order and id) with this op's lines, or a small per-order pool. */
type RetReqUse = { k: "fresh" } | { k: "repeat"; j: number } | { k: "reuse"; j: number } | { k: "pool"; n: number };

type Op =
  | { k: "create"; lines: { p: number; q: number }[] }
  | { k: "pay"; i: number; kind: Kind; amount: AmountSpec; stray: boolean; usd: boolean; evt: EventIdUse; reason: string; etag: EtagUse }
  | { k: "ship"; i: number; lines: { line: number; q: Qty }[]; dup: boolean; req: ReqIdUse; info: number | null; etag: EtagUse }
  | { k: "move"; i: number; s: number; to: ShStatus | "next"; info: number | null; unknown: boolean; etag: EtagUse }
  | { k: "status"; i: number; to: Status | "next"; etag: EtagUse }
  | { k: "info"; i: number; info: number; etag: EtagUse }
  | { k: "cancel" | "delete"; i: number; etag: EtagUse }
  /** CancelUnshipped, as staff or as the order's customer. */
  | { k: "rest"; i: number; customer: boolean; etag: EtagUse }
  /** RequestReturn, as staff or as the order's customer; `open`: line indexes count among the lines with units still to return (when there are). */
  | { k: "return"; i: number; lines: { line: number; q: RetQty }[]; open: boolean; dup: boolean; req: RetReqUse; customer: boolean; etag: EtagUse }
  /** UpdateReturnStatus of one of the order's returns (r), or of an id it lacks. */
  | { k: "retmove"; i: number; r: number; to: RStatus | "next"; unknown: boolean; etag: EtagUse };

const weighted = <T>(...choices: [number, fc.Arbitrary<T>][]) => fc.oneof(...choices.map(([weight, arbitrary]) => ({ weight, arbitrary })));
const seldom = (oneIn: number) => weighted([oneIn - 1, fc.constant(false)], [1, fc.constant(true)]);
const etagArb: fc.Arbitrary<EtagUse> = weighted([8, fc.constant("none" as const)], [1, fc.constant("current" as const)], [1, fc.constant("stale" as const)]);
const infoArb = weighted<number | null>([1, fc.constant(null)], [1, fc.integer({ min: 0, max: 1 })]);
const i = fc.nat(40);

const amountArb: fc.Arbitrary<AmountSpec> = weighted<AmountSpec>(
  [4, fc.record({ k: fc.constant("limit" as const), d: fc.constantFrom<-1 | 0 | 1>(0, 0, 0, -1, 1) })],
  [3, fc.record({ k: fc.constant("quarter" as const), n: fc.integer({ min: 1, max: 4 }) })],
  [1, fc.record({ k: fc.constant("owed" as const) })],
  [1, fc.record({ k: fc.constant("one" as const) })],
);
const eventIdArb: fc.Arbitrary<EventIdUse> = weighted<EventIdUse>(
  [6, fc.record({ k: fc.constant("fresh" as const) })],
  [2, fc.record({ k: fc.constant("repeat" as const), j: fc.nat(40) })],
  [1, fc.record({ k: fc.constant("reuse" as const), j: fc.nat(40) })],
);
/** Request ids the UpdateOrderStatus SHIPPED shortcut once named its own parcels with ("order-shipped-v<version>"). */
const SHORTCUT_REQUEST_IDS = true;
const reqIdArb: fc.Arbitrary<ReqIdUse> = weighted<ReqIdUse>(
  [5, fc.record({ k: fc.constant("fresh" as const) })],
  [2, fc.record({ k: fc.constant("repeat" as const), j: fc.nat(40) })],
  [2, fc.record({ k: fc.constant("pool" as const), n: fc.nat(2) })],
  ...(SHORTCUT_REQUEST_IDS ? [[1, fc.record({ k: fc.constant("shortcut" as const), v: fc.integer({ min: 2, max: 12 }) })] as [number, fc.Arbitrary<ReqIdUse>]] : []),
);
const qtyArb: fc.Arbitrary<Qty> = weighted<Qty>(
  [4, fc.record({ k: fc.constant("n" as const), n: fc.integer({ min: 1, max: 3 }) })],
  [1, fc.record({ k: fc.constant("rest" as const) })],
);
const retQtyArb: fc.Arbitrary<RetQty> = weighted<RetQty>(
  [4, fc.record({ k: fc.constant("limit" as const), d: fc.constantFrom<-1 | 0 | 1>(0, 0, -1, 1) })],
  [1, fc.record({ k: fc.constant("n" as const), n: fc.integer({ min: 1, max: 3 }) })],
);
const retReqArb: fc.Arbitrary<RetReqUse> = weighted<RetReqUse>(
  [6, fc.record({ k: fc.constant("fresh" as const) })],
  [2, fc.record({ k: fc.constant("repeat" as const), j: fc.nat(40) })],
  [1, fc.record({ k: fc.constant("reuse" as const), j: fc.nat(40) })],
  [1, fc.record({ k: fc.constant("pool" as const), n: fc.nat(1) })],
);
const createArb = fc.record({ k: fc.constant("create" as const), lines: fc.array(fc.record({ p: fc.nat(2), q: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 3 }) });

const opArb: fc.Arbitrary<Op> = weighted<Op>(
  [1, createArb],
  [
    3,
    fc.record({
      k: fc.constant("pay" as const),
      i,
      kind: fc.constantFrom(...PAYMENT_EVENT_KINDS),
      amount: amountArb,
      stray: seldom(10),
      usd: seldom(15),
      evt: eventIdArb,
      reason: fc.constantFrom("", "webhook"),
      etag: etagArb,
    }),
  ],
  [
    4,
    fc.record({
      k: fc.constant("ship" as const),
      i,
      // A line of the order (index modulo its lines), or -1: the line after its last.
      lines: fc.array(fc.record({ line: weighted([24, fc.nat(2)], [1, fc.constant(-1)]), q: qtyArb }), { minLength: 1, maxLength: 3 }),
      // Keep a line named twice (else the repeats are dropped).
      dup: seldom(10),
      req: reqIdArb,
      info: infoArb,
      etag: etagArb,
    }),
  ],
  [
    5,
    fc.record({
      k: fc.constant("move" as const),
      i,
      s: fc.nat(5),
      to: weighted<ShStatus | "next">([3, fc.constant("next" as const)], [1, fc.constantFrom(...SHIPMENT_STATUSES)]),
      info: infoArb,
      unknown: seldom(12),
      etag: etagArb,
    }),
  ],
  [2, fc.record({ k: fc.constant("status" as const), i, to: weighted<Status | "next">([2, fc.constant("next" as const)], [1, fc.constantFrom(...ORDER_STATUSES)]), etag: etagArb })],
  [1, fc.record({ k: fc.constant("info" as const), i, info: fc.integer({ min: 0, max: 1 }), etag: etagArb })],
  [1, fc.record({ k: fc.constantFrom("cancel" as const, "delete" as const), i, etag: etagArb })],
  [1, fc.record({ k: fc.constant("rest" as const), i, customer: seldom(4), etag: etagArb })],
  [
    3,
    fc.record({
      k: fc.constant("return" as const),
      i,
      // A line of the order (index modulo its lines), or -1: the line after its last.
      lines: fc.array(fc.record({ line: weighted([24, fc.nat(2)], [1, fc.constant(-1)]), q: retQtyArb }), { minLength: 1, maxLength: 3 }),
      open: fc.boolean(),
      dup: seldom(12),
      req: retReqArb,
      customer: seldom(4),
      etag: etagArb,
    }),
  ],
  [
    3,
    fc.record({
      k: fc.constant("retmove" as const),
      i,
      r: fc.nat(5),
      // REJECTED by name now and then too: it frees the return's units for another.
      to: weighted<RStatus | "next">([3, fc.constant("next" as const)], [1, fc.constantFrom(...RETURN_STATUSES)], [1, fc.constant("REJECTED" as const)]),
      unknown: seldom(12),
      etag: etagArb,
    }),
  ],
);

/** A step that is there three times in four (and shrinks away). */
const mostly = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { freq: 4, nil: undefined });
const nextParcel = mostly(fc.constant<Op>({ k: "move", i: 1, s: 1, to: "next", info: null, unknown: false, etag: "none" }));
const nextReturn = mostly(fc.constant<Op>({ k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "none" }));
const parcel = (q: fc.Arbitrary<Qty>) =>
  mostly(
    fc.record({
      k: fc.constant("ship" as const),
      i: fc.constant(1),
      lines: fc.array(fc.record({ line: fc.nat(2), q }), { minLength: 1, maxLength: 2 }),
      dup: fc.constant(false),
      req: fc.constant<ReqIdUse>({ k: "fresh" }),
      info: fc.integer({ min: 0, max: 1 }),
      etag: fc.constant<EtagUse>("none"),
    }),
  );
/**
 * The way an order usually goes, each step there three times in four: a capture; a parcel (with shipping info)
 * shipped and delivered, then another with the rest; a return of what can be, approved and received; a refund of
 * what is owed; the rest cancelled. After the first create, it makes deliveries, returns, receipts and refunds
 * common without longer sequences; the ops after it go anywhere.
 */
const usualArb: fc.Arbitrary<Op[]> = fc
  .tuple(
    mostly(
      fc.record({
        k: fc.constant("pay" as const),
        i: fc.constant(1),
        kind: fc.constant<Kind>("CAPTURED"),
        amount: weighted<AmountSpec>([2, fc.constant({ k: "limit", d: 0 } as const)], [1, fc.constant({ k: "quarter", n: 2 } as const)]),
        stray: fc.constant(false),
        usd: fc.constant(false),
        evt: fc.constant<EventIdUse>({ k: "fresh" }),
        reason: fc.constant(""),
        etag: fc.constant<EtagUse>("none"),
      }),
    ),
    parcel(qtyArb),
    nextParcel,
    nextParcel,
    parcel(fc.constant<Qty>({ k: "rest" })),
    nextParcel,
    nextParcel,
    mostly(
      fc.record({
        k: fc.constant("return" as const),
        i: fc.constant(1),
        lines: fc.array(fc.record({ line: fc.nat(2), q: fc.record({ k: fc.constant("limit" as const), d: fc.constantFrom<-1 | 0>(0, -1) }) }), {
          minLength: 1,
          maxLength: 2,
        }),
        open: fc.constant(true),
        dup: fc.constant(false),
        req: fc.constant<RetReqUse>({ k: "fresh" }),
        customer: fc.boolean(),
        etag: fc.constant<EtagUse>("none"),
      }),
    ),
    nextReturn,
    nextReturn,
    mostly(
      fc.constant<Op>({ k: "pay", i: 1, kind: "REFUNDED", amount: { k: "owed" }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" }),
    ),
    mostly(fc.constant<Op>({ k: "rest", i: 1, customer: false, etag: "none" })),
  )
  .map((steps) => steps.filter((x): x is Op => x !== undefined));

// --------------------------------------------------------------------- model

interface Info {
  carrier: string;
  trackingNumber: string;
}
interface MLine {
  lineNo: number;
  quantity: number;
}
interface MShipment {
  id: string;
  requestId: string;
  status: ShStatus;
  lines: MLine[];
  info: Info | undefined;
  /** New in this step: its id (and, for the SHIPPED shortcut's, its request id) is taken from the stored order. */
  adopt?: boolean;
}
interface MReturn {
  id: string;
  requestId: string;
  status: RStatus;
  lines: MLine[];
  /** Set when RECEIVED: the lines' unit prices as ordered × units. */
  refund: bigint | undefined;
  /** New in this step: its id is taken from the stored order. */
  adopt?: boolean;
}
/** Stock the order gave back after its sale (CancelUnshipped's rest, a RECEIVED return's units). */
interface MRestock {
  kind: "CANCELLED_REST" | "RETURN";
  lines: MLine[];
}
interface MPayment {
  status: PayStatus;
  auth: bigint;
  cap: bigint;
  ref: bigint;
  pending: bigint;
}
interface MOrder {
  id: string;
  /** Per line: the product's index and the units ordered. */
  products: number[];
  qty: number[];
  /** Per line: the unit price as ordered. */
  prices: bigint[];
  /** Per line: units cancelled by CancelUnshipped (OrderLine.cancelled_quantity). */
  cancelled: number[];
  total: bigint;
  status: Status;
  deleted: boolean;
  info: Info | undefined;
  pay: MPayment;
  shipments: MShipment[];
  returns: MReturn[];
  restocks: MRestock[];
  history: [string, string][];
  /** Every etag the order had, oldest first. */
  etags: string[];
}
interface StoredReport {
  orderId: string;
  kind: Kind;
  currency: string;
  amount: bigint;
  reason: string;
}
type ReportInit = MessageInitShape<typeof ReportPaymentRequestSchema> & { orderId: string; providerEventId: string };
interface ShipRequest {
  orderId: string;
  requestId: string;
  lines: { lineNumber: number; quantity: number }[];
  shippingInfo: Info | undefined;
  etag: string;
}
interface RetRequest {
  orderId: string;
  requestId: string;
  lines: { lineNumber: number; quantity: number }[];
  etag: string;
  customer: boolean;
}
interface Model {
  run: number;
  products: string[];
  customerId: string;
  /** The run's customer (every order's) as a caller. */
  mine: OrdersHarness["orders"];
  orders: MOrder[];
  /** Every report sent (refused ones too), for exact repeats. */
  reports: ReportInit[];
  /** Reports the service took, by provider event id. */
  stored: Map<string, StoredReport>;
  ships: ShipRequest[];
  /** Every RequestReturn sent (refused ones too), for exact repeats and reused ids. */
  rets: RetRequest[];
  /** Per order, its statuses after the last step. */
  seen: Map<string, Seen>;
  evtSeq: number;
  reqSeq: number;
}

/** The model's answer to a call: it is refused with `code`/`reason`, or it succeeds (changing the order or not). */
class Refusal {
  constructor(
    readonly code: string,
    readonly reason: string,
    readonly violations?: number,
  ) {}
}
const refuse = (code: string, reason: string, violations?: number): never => {
  throw new Refusal(code, reason, violations);
};
type Expected = { ok: true; changed: boolean } | { ok: false; code: string; reason: string; violations?: number };

function predict(fn: () => boolean): Expected {
  try {
    return { ok: true, changed: fn() };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, reason: e.reason, ...(e.violations === undefined ? {} : { violations: e.violations }) };
    throw e;
  }
}

const currentEtag = (o: MOrder) => o.etags[o.etags.length - 1]!;
const etagFor = (o: MOrder, use: EtagUse) => (use === "none" ? "" : use === "current" ? currentEtag(o) : o.etags[0]!);
const sameInfo = (a: Info | undefined, b: Info | undefined) => a?.carrier === b?.carrier && a?.trackingNumber === b?.trackingNumber;

function found(o: MOrder | undefined): asserts o is MOrder {
  if (!o || o.deleted) refuse("NotFound", "ORDER_NOT_FOUND");
}
function etagOk(o: MOrder, etag: string) {
  if (etag !== "" && etag !== currentEtag(o)) refuse("Aborted", "ETAG_MISMATCH");
}

/** Units per line in shipments with one of `statuses`. */
function unitsIn(qty: readonly number[], shipments: readonly { status: string; lines: readonly MLine[] }[], statuses: readonly string[]): number[] {
  const units = qty.map(() => 0);
  for (const s of shipments) if (statuses.includes(s.status)) for (const l of s.lines) units[l.lineNo - 1] = (units[l.lineNo - 1] ?? 0) + l.quantity;
  return units;
}
const LIVE = ["PENDING", "SHIPPED", "DELIVERED"];
/** Units per line still ordered: ordered less cancelled by CancelUnshipped. */
const orderedOf = (o: Pick<MOrder, "qty" | "cancelled">) => o.qty.map((q, k) => q - (o.cancelled[k] ?? 0));
/** Units per line still ordered and in no live parcel. */
const left = (o: Pick<MOrder, "qty" | "cancelled" | "shipments">) => {
  const ordered = orderedOf(o);
  const inParcels = unitsIn(ordered, o.shipments, LIVE);
  return ordered.map((q, k) => q - inParcels[k]!);
};
/** Returns other than REJECTED ones: their units count against what was delivered. */
const RETURNING = ["REQUESTED", "APPROVED", "RECEIVED"];
/** Units per line that can still be returned: delivered, less those in returns other than REJECTED ones. */
const returnableOf = (o: Pick<MOrder, "qty" | "shipments" | "returns">) => {
  const delivered = unitsIn(o.qty, o.shipments, ["DELIVERED"]);
  const returned = unitsIn(o.qty, o.returns, RETURNING);
  return o.qty.map((_, k) => delivered[k]! - returned[k]!);
};

/** Where the units are, from the shipments (proto FulfilmentStatus), computed here apart from the service's. */
function fulfilmentOf(qty: readonly number[], shipments: readonly { status: string; lines: readonly MLine[] }[]): string {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const total = sum([...qty]);
  const delivered = sum(unitsIn(qty, shipments, ["DELIVERED"]));
  const shipped = sum(unitsIn(qty, shipments, ["SHIPPED", "DELIVERED"]));
  if (delivered >= total) return "DELIVERED";
  if (delivered > 0) return "PARTIALLY_DELIVERED";
  if (shipped >= total) return "SHIPPED";
  if (shipped > 0) return "PARTIALLY_SHIPPED";
  return "UNFULFILLED";
}

/** Units per line the order sold and kept: none once cancelled, else those still ordered less those of RECEIVED returns. */
function unitsSold(o: Pick<MOrder, "status" | "qty" | "cancelled" | "returns">): number[] {
  if (o.status === "CANCELLED") return o.qty.map(() => 0);
  const back = unitsIn(o.qty, o.returns, ["RECEIVED"]);
  return orderedOf(o).map((q, k) => q - back[k]!);
}

/** Whether every unit ordered is in SHIPPED or DELIVERED shipments, and whether every unit is in DELIVERED ones. */
function unitsOut(qty: readonly number[], shipments: readonly { status: string; lines: readonly MLine[] }[]) {
  const out = unitsIn(qty, shipments, ["SHIPPED", "DELIVERED"]);
  const delivered = unitsIn(qty, shipments, ["DELIVERED"]);
  return { allShipped: qty.every((q, k) => out[k]! >= q), allDelivered: qty.every((q, k) => delivered[k]! >= q) };
}

/** The payment status the amounts say (proto PaymentStatus), before FAILED/VOIDED. */
function statusOfAmounts(p: Omit<MPayment, "status" | "pending">, total: bigint): PayStatus {
  if (p.ref > 0n) return p.ref === p.cap ? "REFUNDED" : "PARTIALLY_REFUNDED";
  if (p.cap > 0n) return p.cap >= total ? "CAPTURED" : "PARTIALLY_CAPTURED";
  if (p.auth > 0n) return "AUTHORIZED";
  return "PENDING";
}

/**
 * A cancelled order owes back whatever it captured and kept; cancelled units or a received return,
 * their value (`upTo`), capped at what is captured and not yet refunded or owed.
 */
function refundDue(d: MOrder, upTo?: bigint) {
  const owed = d.pay.cap - d.pay.ref - d.pay.pending;
  const amount = upTo !== undefined && upTo < owed ? upTo : owed;
  if (amount > 0n) d.pay.pending += amount;
}

/** SET_STATUS as the contract says; mutates the draft, returns whether anything changed. */
function setStatus(d: MOrder, to: Status): boolean {
  if (d.status === to) return false;
  if (!TRANSITIONS[d.status].includes(to)) refuse("FailedPrecondition", "ILLEGAL_TRANSITION");
  if (to === "CANCELLED" && d.shipments.some((s) => s.status === "SHIPPED" || s.status === "DELIVERED")) {
    refuse("FailedPrecondition", "ORDER_PARTIALLY_SHIPPED");
  }
  if (to === "SHIPPED") {
    for (const s of d.shipments) {
      if (s.status !== "PENDING") continue;
      const info = s.info ?? d.info;
      if (!info) refuse("FailedPrecondition", "SHIPPING_INFO_REQUIRED");
      Object.assign(s, { status: "SHIPPED", info });
    }
    const rest = left(d);
    if (rest.some((q) => q > 0)) {
      if (!d.info) refuse("FailedPrecondition", "SHIPPING_INFO_REQUIRED");
      const lines = rest.flatMap((q, k) => (q > 0 ? [{ lineNo: k + 1, quantity: q }] : []));
      d.shipments.push({ id: "", requestId: "", status: "SHIPPED", lines, info: d.info, adopt: true });
    }
  }
  // An order without shipping info takes the last parcel's that has one.
  if (to === "SHIPPED" && !d.info) d.info = [...d.shipments].reverse().find((s) => s.info)?.info;
  if (to === "DELIVERED") for (const s of d.shipments) if (s.status === "SHIPPED") s.status = "DELIVERED";
  if (to === "CANCELLED") for (const s of d.shipments) if (s.status === "PENDING") s.status = "CANCELLED";
  d.history.push([d.status, to]);
  d.status = to;
  if (to === "CANCELLED") refundDue(d);
  return true;
}

const hasAmount = (k: Kind) => k === "AUTHORIZED" || k === "CAPTURED" || k === "REFUNDED";

/** A payment report as the contract and the payment table say. */
function applyReport(d: MOrder, kind: Kind, amount: bigint) {
  const p = d.pay;
  if (!PAYMENT_TRANSITIONS[p.status][kind]) refuse("FailedPrecondition", "ILLEGAL_PAYMENT_TRANSITION");
  switch (kind) {
    case "AUTHORIZED":
      if (p.auth + amount > d.total) refuse("FailedPrecondition", "PAYMENT_EXCEEDS_TOTAL");
      p.auth += amount;
      break;
    case "CAPTURED":
      if (p.auth === 0n) {
        if (amount > d.total) refuse("FailedPrecondition", "PAYMENT_EXCEEDS_TOTAL");
        p.auth = amount;
      } else if (p.cap + amount > p.auth) refuse("FailedPrecondition", "CAPTURE_EXCEEDS_AUTHORIZED");
      p.cap += amount;
      break;
    case "REFUNDED":
      if (p.ref + amount > p.cap) refuse("FailedPrecondition", "REFUND_EXCEEDS_CAPTURED");
      p.ref += amount;
      p.pending = p.pending > amount ? p.pending - amount : 0n;
      break;
    case "VOIDED":
      if (p.auth === p.cap) refuse("FailedPrecondition", "ILLEGAL_PAYMENT_TRANSITION");
      p.auth = p.cap;
      break;
    case "FAILED":
      break;
  }
  p.status = kind === "FAILED" ? "FAILED" : kind === "VOIDED" && p.cap === 0n ? "VOIDED" : statusOfAmounts(p, d.total);
  if (d.status === "CANCELLED") refundDue(d);
}

function resolveAmount(o: MOrder | undefined, kind: Kind, spec: AmountSpec): bigint {
  if (!o) return 1n;
  const { auth, cap, ref } = o.pay;
  const limit = kind === "AUTHORIZED" ? o.total - auth : kind === "CAPTURED" ? (auth === 0n ? o.total : auth - cap) : cap - ref;
  if (spec.k === "limit") return limit + BigInt(spec.d);
  if (spec.k === "quarter") return (o.total * BigInt(spec.n)) / 4n;
  if (spec.k === "owed") return o.pay.pending > 0n ? o.pay.pending : 1n;
  return 1n;
}

// ------------------------------------------------------------- the harness

let h: OrdersHarness;
let staff: OrdersHarness["orders"];
let payments: OrdersHarness["orders"];
let runs = 0;
beforeAll(async () => {
  // Hundreds of calls a second from one staff caller: no rate limits (not the subject here).
  // RETURN_WINDOW_DAYS as by default, whatever the environment says: every delivery of a run is within it.
  h = await createOrdersHarness({ config: { rateLimit: { ...(await testConfig()).rateLimit, enabled: false }, returnWindowDays: 30 } });
  staff = h.as(STAFF).orders;
  payments = h.as(servicePrincipal("payments")).orders;
});
afterAll(async () => {
  // PROPERTY_STATS=1: how often each call ended how (to tune the generators).
  if (process.env.PROPERTY_STATS) console.log([...outcomes.entries()].sort().map(([k, v]) => `${k}: ${v}`).join("\n"));
  await h.close();
});

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; reason: string; violations: number; message: string };

/** The call's outcome; anything but a typed client error fails the property here. */
async function attempt<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (e) {
    const err = ConnectError.from(e);
    const code = Code[err.code];
    expect(CLIENT_CODES, `not a typed client error: ${code}: ${err.message}`).toContain(code);
    return { ok: false, code, reason: reasonOf(err), violations: preconditionViolationsOf(err).length, message: err.message };
  }
}

/** Calls by method and outcome, over the whole file. */
const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
function expectOutcome(what: string, expected: Expected, got: Outcome<unknown>) {
  const key = `${what.split(" ")[0]} ${got.ok ? (expected.ok && expected.changed ? "OK" : "OK, unchanged") : `${got.code} ${got.reason}`}`;
  count(key);
  const want = expected.ok ? { ok: true } : expected;
  const actual = got.ok
    ? { ok: true }
    : { ok: false, code: got.code, reason: got.reason, ...("violations" in expected && expected.violations !== undefined ? { violations: got.violations } : {}) };
  expect(actual, `${what}${got.ok ? "" : `: ${got.message}`}`).toEqual(want);
}

// --------------------------------------------------------- stored orders

interface View {
  id: string;
  deleted: boolean;
  etag: string;
  status: string;
  products: string[];
  qty: number[];
  prices: bigint[];
  cancelled: number[];
  total: bigint;
  currency: string;
  pay: { status: string; auth: bigint; cap: bigint; ref: bigint; pending: bigint };
  shipments: { id: string; requestId: string; status: string; lines: MLine[]; info: Info | undefined; shipped: boolean; delivered: boolean }[];
  returns: { id: string; requestId: string; status: string; lines: MLine[]; refund: bigint | undefined; refundCurrency: string | undefined }[];
  fulfilment: string;
  info: Info | undefined;
  history: [string, string][];
}

const minor = (m: Money | undefined) => m?.amountMinor ?? 0n;
const infoOf = (i: { carrier: string; trackingNumber: string } | undefined | null): Info | undefined =>
  i ? { carrier: i.carrier, trackingNumber: i.trackingNumber } : undefined;

function viewOfProto(o: Order): View {
  const p = o.payment;
  return {
    id: o.id,
    deleted: false,
    etag: o.etag,
    status: OrderStatus[o.status],
    products: o.lines.map((l) => l.productId),
    qty: o.lines.map((l) => l.quantity),
    prices: o.lines.map((l) => minor(l.unitPrice)),
    cancelled: o.lines.map((l) => l.cancelledQuantity),
    total: minor(o.total),
    currency: o.total?.currencyCode ?? "",
    pay: { status: PaymentStatus[p?.status ?? 0], auth: minor(p?.authorized), cap: minor(p?.captured), ref: minor(p?.refunded), pending: minor(p?.refundPending) },
    shipments: o.shipments.map((s) => ({
      id: s.id,
      requestId: s.requestId,
      status: ShipmentStatus[s.status],
      lines: s.lines.map((l) => ({ lineNo: l.lineNumber, quantity: l.quantity })),
      info: infoOf(s.shippingInfo),
      shipped: s.shipTime !== undefined,
      delivered: s.deliverTime !== undefined,
    })),
    returns: o.returns.map((r) => ({
      id: r.id,
      requestId: r.requestId,
      status: ReturnStatus[r.status],
      lines: r.lines.map((l) => ({ lineNo: l.lineNumber, quantity: l.quantity })),
      refund: r.refund?.amountMinor,
      refundCurrency: r.refund?.currencyCode,
    })),
    fulfilment: FulfilmentStatus[o.fulfilmentStatus],
    info: infoOf(o.shippingInfo),
    history: o.history.map((c) => [c.fromStatus === OrderStatus.UNSPECIFIED ? "" : OrderStatus[c.fromStatus], OrderStatus[c.toStatus]]),
  };
}

interface ShipmentRow {
  id: string;
  requestId: string;
  status: string;
  lines: MLine[];
  carrier: string | null;
  trackingNumber: string | null;
  shipTime: string | null;
  deliverTime: string | null;
}
interface ReturnRow {
  id: string;
  requestId: string;
  status: string;
  lines: MLine[];
  refundMinor: string | null;
}
interface RestockRow {
  id: string;
  kind: string;
  lines: MLine[];
  state: string;
}
const jsonOf = <T>(raw: unknown): T => (typeof raw === "string" ? JSON.parse(raw) : raw) as T;

/** A deleted order, as the database keeps it. */
async function viewOfRow(id: string): Promise<View | undefined> {
  const db = h.database.db;
  const [row] = rowsOf<Record<string, unknown>>(
    await db.execute(sql`select status, currency, total_minor::text as total, payment_status, authorized_minor::text as auth, captured_minor::text as cap,
        refunded_minor::text as ref, refund_pending_minor::text as pending, shipments, returns, restocks, fulfilment_status, carrier, tracking_number,
        delete_time is not null as deleted
      from orders.orders where id = ${id}::uuid`),
  );
  if (!row) return undefined;
  const lines = rowsOf<{ product_id: string; quantity: number; price: string }>(
    await db.execute(
      sql`select product_id::text as product_id, quantity, unit_price_minor::text as price from orders.order_lines where order_id = ${id}::uuid order by line_no`,
    ),
  );
  const history = rowsOf<{ from_status: string | null; to_status: string }>(
    await db.execute(sql`select from_status, to_status from orders.order_history where order_id = ${id}::uuid order by id`),
  );
  const shipments = jsonOf<ShipmentRow[]>(row.shipments);
  const returns = jsonOf<ReturnRow[]>(row.returns);
  // OrderLine.cancelled_quantity, as the codec derives it: the units of the order's CANCELLED_REST restocks.
  const cancelled = lines.map(() => 0);
  for (const r of jsonOf<RestockRow[]>(row.restocks)) if (r.kind === "CANCELLED_REST") for (const l of r.lines) cancelled[l.lineNo - 1]! += l.quantity;
  const big = (k: string) => BigInt(row[k] as string);
  return {
    id,
    deleted: row.deleted === true,
    etag: "",
    status: row.status as string,
    products: lines.map((l) => l.product_id),
    qty: lines.map((l) => Number(l.quantity)),
    prices: lines.map((l) => BigInt(l.price)),
    cancelled,
    total: big("total"),
    currency: row.currency as string,
    pay: { status: row.payment_status as string, auth: big("auth"), cap: big("cap"), ref: big("ref"), pending: big("pending") },
    shipments: shipments.map((s) => ({
      id: s.id,
      requestId: s.requestId,
      status: s.status,
      lines: s.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })),
      info: s.carrier && s.trackingNumber ? { carrier: s.carrier, trackingNumber: s.trackingNumber } : undefined,
      shipped: s.shipTime !== null,
      delivered: s.deliverTime !== null,
    })),
    returns: returns.map((r) => ({
      id: r.id,
      requestId: r.requestId,
      status: r.status,
      lines: r.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })),
      refund: r.refundMinor === null ? undefined : BigInt(r.refundMinor),
      refundCurrency: r.refundMinor === null ? undefined : (row.currency as string),
    })),
    fulfilment: row.fulfilment_status as string,
    info: infoOf(row.carrier && row.tracking_number ? { carrier: row.carrier as string, trackingNumber: row.tracking_number as string } : undefined),
    history: history.map((c) => [c.from_status ?? "", c.to_status]),
  };
}

async function viewOf(id: string): Promise<View> {
  const got = await attempt(staff.getOrder({ orderId: id }));
  if (got.ok) return viewOfProto(got.value.order!);
  expect(got.code, got.message).toBe("NotFound");
  const row = await viewOfRow(id);
  expect(row, `order ${id} is NOT_FOUND and not in the database`).toBeDefined();
  expect(row!.deleted, `order ${id} is NOT_FOUND but not deleted`).toBe(true);
  return row!;
}

/** The invariants one stored order must keep, whatever the model says. */
function violationsOf(v: View): string[] {
  const out: string[] = [];
  const bad = (what: string) => out.push(`${v.id}${v.deleted ? " (deleted)" : ""}: ${what}`);
  // History: from PENDING, each step one of TRANSITIONS', ending at the status.
  v.history.forEach(([from, to], k) => {
    if (k === 0) {
      if (from !== "" || to !== "PENDING") bad(`history starts ${from || "∅"} → ${to}, not ∅ → PENDING`);
      return;
    }
    const prev = v.history[k - 1]![1];
    if (from !== prev) bad(`history entry ${k} starts at ${from}, the previous one ended at ${prev}`);
    if (!(TRANSITIONS as Record<string, readonly string[]>)[from]?.includes(to)) bad(`history entry ${k}: ${from} → ${to} is not in TRANSITIONS`);
  });
  if (v.history[v.history.length - 1]?.[1] !== v.status) bad(`status ${v.status} but history ends at ${v.history[v.history.length - 1]?.[1]}`);
  // Shipments: known statuses, unique ids, real lines, never more than ordered.
  const ids = new Set<string>();
  for (const s of v.shipments) {
    if (!(SHIPMENT_STATUSES as readonly string[]).includes(s.status)) bad(`shipment ${s.id} has status ${s.status}`);
    if (ids.has(s.id)) bad(`two shipments have id ${s.id}`);
    ids.add(s.id);
    if (s.lines.length === 0) bad(`shipment ${s.id} is empty`);
    for (const l of s.lines) if (l.lineNo < 1 || l.lineNo > v.qty.length || l.quantity < 1) bad(`shipment ${s.id} has line ${l.lineNo} × ${l.quantity}`);
    if ((s.status === "SHIPPED" || s.status === "DELIVERED") && (!s.info || !s.shipped)) bad(`shipment ${s.id} is ${s.status} without shipping info or ship time`);
    if (s.status === "DELIVERED" && !s.delivered) bad(`shipment ${s.id} is DELIVERED without deliver time`);
  }
  // Units cancelled (CancelUnshipped) are no longer ordered: the shipments carry the rest.
  v.cancelled.forEach((n, k) => (n < 0 || n > v.qty[k]!) && bad(`line ${k + 1}: ${n} units cancelled, ${v.qty[k]} ordered`));
  const ordered = orderedOf(v);
  const live = unitsIn(v.qty, v.shipments, LIVE);
  live.forEach((n, k) => n > ordered[k]! && bad(`line ${k + 1}: ${n} units in live shipments, ${v.qty[k]} ordered, ${v.cancelled[k]} cancelled`));
  const fulfilment = fulfilmentOf(ordered, v.shipments);
  if (v.fulfilment !== fulfilment) bad(`fulfilment_status ${v.fulfilment}, the shipments say ${fulfilment}`);
  const anyCancelled = v.cancelled.some((n) => n > 0);
  if (anyCancelled && v.status !== "SHIPPED" && v.status !== "DELIVERED") bad(`units cancelled but the order is ${v.status}`);
  // The order follows its shipments: SHIPPED once every unit is out, DELIVERED once every unit is delivered.
  const { allShipped, allDelivered } = unitsOut(ordered, v.shipments);
  const where = allDelivered ? "every unit delivered" : allShipped ? "every unit shipped, not all delivered" : "not every unit shipped";
  const consistent: Record<string, boolean> = {
    PENDING: fulfilment === "UNFULFILLED",
    CONFIRMED: fulfilment === "UNFULFILLED",
    PROCESSING: !allShipped,
    SHIPPED: allShipped && !allDelivered,
    DELIVERED: allDelivered,
    CANCELLED: fulfilment === "UNFULFILLED",
  };
  if (!consistent[v.status]) bad(`order ${v.status} with ${where} (fulfilment ${fulfilment})`);
  if (v.status === "CONFIRMED" && v.shipments.length > 0) bad(`CONFIRMED with ${v.shipments.length} shipments`);
  if (v.status === "CANCELLED" && v.shipments.some((s) => LIVE.includes(s.status))) bad("CANCELLED with a live shipment");
  // Returns: known statuses, unique ids, real lines each at most once, never more of a line than delivered, the refund once RECEIVED.
  const returnIds = new Set<string>();
  for (const r of v.returns) {
    if (!(RETURN_STATUSES as readonly string[]).includes(r.status)) bad(`return ${r.id} has status ${r.status}`);
    if (returnIds.has(r.id)) bad(`two returns have id ${r.id}`);
    returnIds.add(r.id);
    if (r.lines.length === 0) bad(`return ${r.id} is empty`);
    if (new Set(r.lines.map((l) => l.lineNo)).size !== r.lines.length) bad(`return ${r.id} names a line twice`);
    for (const l of r.lines) if (l.lineNo < 1 || l.lineNo > v.qty.length || l.quantity < 1) bad(`return ${r.id} has line ${l.lineNo} × ${l.quantity}`);
    const value = r.lines.reduce((sum, l) => sum + (v.prices[l.lineNo - 1] ?? 0n) * BigInt(l.quantity), 0n);
    if (r.status === "RECEIVED" && (r.refund !== value || r.refundCurrency !== v.currency)) {
      bad(`return ${r.id} RECEIVED with refund ${r.refund} ${r.refundCurrency}, its lines are worth ${value} ${v.currency}`);
    }
    if (r.status !== "RECEIVED" && r.refund !== undefined) bad(`return ${r.id} ${r.status} with a refund`);
  }
  const delivered = unitsIn(v.qty, v.shipments, ["DELIVERED"]);
  const returning = unitsIn(v.qty, v.returns, RETURNING);
  returning.forEach((n, k) => n > delivered[k]! && bad(`line ${k + 1}: ${n} units in returns (not REJECTED), ${delivered[k]} delivered`));
  // Payment.
  const { auth, cap, ref, pending } = v.pay;
  if (!(0n <= ref && ref <= cap && cap <= auth && auth <= v.total)) bad(`payment amounts refunded ${ref} captured ${cap} authorized ${auth} total ${v.total}`);
  if (!(0n <= pending && pending <= cap - ref)) bad(`refund_pending ${pending} outside 0..${cap - ref}`);
  const everCancelled = v.history.some(([, to]) => to === "CANCELLED");
  const owesBack = everCancelled || anyCancelled || v.returns.some((r) => r.status === "RECEIVED");
  if (!owesBack && pending !== 0n) bad(`refund_pending ${pending} on an order never cancelled, with nothing cancelled and no return received`);
  if (v.status === "CANCELLED" && pending !== cap - ref) bad(`cancelled with captured ${cap} refunded ${ref} but refund_pending ${pending} (refund lost)`);
  const byAmounts = statusOfAmounts({ auth, cap, ref }, v.total);
  const payOk = v.pay.status === byAmounts || ((v.pay.status === "FAILED" || v.pay.status === "VOIDED") && auth === 0n);
  if (!payOk) bad(`payment ${v.pay.status} but the amounts say ${byAmounts}`);
  return out;
}

/** The model's order as comparable to a View (ids of shortcut shipments taken from the view). */
function expectedView(o: MOrder, v: View) {
  o.shipments.forEach((s, k) => {
    const stored = v.shipments[k];
    if (s.adopt && stored) Object.assign(s, { id: stored.id, requestId: stored.requestId, adopt: undefined });
  });
  o.returns.forEach((r, k) => {
    const stored = v.returns[k];
    if (r.adopt && stored) Object.assign(r, { id: stored.id, adopt: undefined });
  });
  return {
    deleted: o.deleted,
    status: o.status,
    qty: o.qty,
    prices: o.prices,
    cancelled: o.cancelled,
    pay: o.pay,
    shipments: o.shipments.map((s) => ({ id: s.id, requestId: s.requestId, status: s.status, lines: s.lines, info: s.info })),
    returns: o.returns.map((r) => ({ id: r.id, requestId: r.requestId, status: r.status, lines: r.lines, refund: r.refund })),
    info: o.info,
    history: o.history,
  };
}
const comparable = (v: View) => ({
  deleted: v.deleted,
  status: v.status,
  qty: v.qty,
  prices: v.prices,
  cancelled: v.cancelled,
  pay: v.pay,
  shipments: v.shipments.map(({ id, requestId, status, lines, info }) => ({ id, requestId, status, lines, info })),
  returns: v.returns.map(({ id, requestId, status, lines, refund }) => ({ id, requestId, status, lines, refund })),
  info: v.info,
  history: v.history,
});

/** What a stored order's statuses were after the last step: how far each may have moved since. */
interface Seen {
  payment: string;
  shipments: Map<string, string>;
  returns: Map<string, string>;
}

/**
 * Every status reached only through its table, from one step to the next (a step makes one move at most): the
 * payment's by a report PAYMENT_TRANSITIONS allows; each parcel appeared PENDING (SHIPPED when the shortcut made it)
 * and each return REQUESTED, then stayed or took a step of SHIPMENT_TRANSITIONS / RETURN_TRANSITIONS; none vanished.
 */
function tableMoves(m: Model, v: View): string[] {
  const out: string[] = [];
  const before = m.seen.get(v.id);
  const now: Seen = {
    payment: v.pay.status,
    shipments: new Map(v.shipments.map((s) => [s.id, s.status])),
    returns: new Map(v.returns.map((r) => [r.id, r.status])),
  };
  if (before && before.payment !== now.payment) {
    const row = (PAYMENT_TRANSITIONS as Record<string, Partial<Record<Kind, readonly string[]>>>)[before.payment] ?? {};
    if (!Object.values(row).some((to) => to?.includes(now.payment))) out.push(`${v.id}: payment moved ${before.payment} → ${now.payment}, not in PAYMENT_TRANSITIONS`);
  }
  const moves = (what: string, table: Record<string, readonly string[]>, was: Map<string, string>, is: Map<string, string>, first: (id: string) => string[]) => {
    for (const [id, from] of was) {
      const to = is.get(id);
      if (to === undefined) out.push(`${v.id}: ${what} ${id} (${from}) vanished`);
      else if (to !== from && !table[from]?.includes(to)) out.push(`${v.id}: ${what} ${id} moved ${from} → ${to}, not in the table`);
    }
    for (const [id, status] of is) if (!was.has(id) && !first(id).includes(status)) out.push(`${v.id}: ${what} ${id} appeared ${status}`);
  };
  const shortcut = (id: string) => v.shipments.find((s) => s.id === id)?.requestId === "";
  moves("shipment", SHIPMENT_TRANSITIONS, before?.shipments ?? new Map(), now.shipments, (id) => (shortcut(id) ? ["SHIPPED"] : ["PENDING"]));
  moves("return", RETURN_TRANSITIONS, before?.returns ?? new Map(), now.returns, () => ["REQUESTED"]);
  m.seen.set(v.id, now);
  return out;
}

/** Every order against the model and the invariants, and the stock. `touched` changed (or not) as `changed` says. */
async function verify(m: Model, step: string, touched?: { order: MOrder; etagBefore: string; changed: boolean }) {
  const sold = m.products.map(() => 0);
  for (const o of m.orders) {
    const v = await viewOf(o.id);
    expect([...violationsOf(v), ...tableMoves(m, v)], `${step}: invariants`).toEqual([]);
    expect(comparable(v), `${step}: order ${o.id} against the model`).toEqual(expectedView(o, v));
    expect(v.products, `${step}: lines`).toEqual(o.products.map((p) => m.products[p]));
    if (touched?.order.id === o.id && !v.deleted) {
      if (touched.changed) expect(v.etag, `${step}: a change moves the etag`).not.toBe(touched.etagBefore);
      else expect(v.etag, `${step}: a refusal or a repeat changes nothing`).toBe(touched.etagBefore);
    }
    if (!v.deleted && v.etag !== currentEtag(o)) o.etags.push(v.etag);
    unitsSold(o).forEach((n, k) => (sold[o.products[k]!]! += n));
  }
  for (const [p, productId] of m.products.entries()) {
    const s = await stockOf(h, productId);
    expect({ product: p, available: s.available, held: s.reserved, onHand: s.onHand }, `${step}: stock`).toEqual({
      product: p,
      available: INITIAL - sold[p]!,
      held: 0,
      onHand: INITIAL - sold[p]!,
    });
  }
}

// ---------------------------------------------------------------- the steps

/** The order an op works on: mostly one still in progress (deeper lifecycles), one in five times any (deleted and final ones too). */
const pick = (m: Model, i: number) => {
  const active = m.orders.filter((o) => !o.deleted && o.status !== "CANCELLED" && o.status !== "DELIVERED");
  const from = active.length > 0 && i % 5 !== 0 ? active : m.orders;
  return from[i % Math.max(1, from.length)];
};

async function create(op: Extract<Op, { k: "create" }>, m: Model) {
  const need = m.products.map((_, p) => op.lines.filter((l) => l.p === p).reduce((s, l) => s + l.q, 0));
  const sold = m.products.map((_, p) => m.orders.reduce((s, o) => s + unitsSold(o).reduce((n, q, k) => n + (o.products[k] === p ? q : 0), 0), 0));
  const expected = predict(() => {
    if (need.some((n, p) => n > INITIAL - sold[p]!)) refuse("FailedPrecondition", "INSUFFICIENT_STOCK");
    return true;
  });
  const items = op.lines.map((l) => ({ productId: m.products[l.p], quantity: l.q }));
  const got = await attempt(h.orders.createOrder({ customerId: m.customerId, requestId: requestId(), items }));
  expectOutcome("create", expected, got);
  if (!got.ok) return;
  const order = got.value.order!;
  expect(OrderStatus[order.status]).toBe("CONFIRMED");
  expect(order.lines.map((l) => [l.productId, l.quantity])).toEqual(op.lines.map((l) => [m.products[l.p], l.q]));
  const total = order.lines.reduce((s, l) => s + PRICES[m.products.indexOf(l.productId)]! * BigInt(l.quantity), 0n);
  expect(minor(order.total)).toBe(total);
  m.orders.push({
    id: order.id,
    products: op.lines.map((l) => l.p),
    qty: op.lines.map((l) => l.q),
    prices: op.lines.map((l) => PRICES[l.p]!),
    cancelled: op.lines.map(() => 0),
    total,
    status: "CONFIRMED",
    deleted: false,
    info: undefined,
    pay: { status: "PENDING", auth: 0n, cap: 0n, ref: 0n, pending: 0n },
    shipments: [],
    returns: [],
    restocks: [],
    history: [
      ["", "PENDING"],
      ["PENDING", "CONFIRMED"],
    ],
    etags: [order.etag],
  });
}

/** Runs one call on order `o`: predicts on a draft, calls, compares, keeps the draft when the call changed the order. */
async function onOrder<T>(m: Model, o: MOrder, what: string, mutate: (d: MOrder) => boolean, call: () => Promise<T>) {
  const draft = structuredClone(o);
  const expected = predict(() => mutate(draft));
  const etagBefore = currentEtag(o);
  const got = await attempt(call());
  expectOutcome(what, expected, got);
  const changed = expected.ok && expected.changed;
  const restocked = changed && draft.restocks.length > o.restocks.length;
  if (changed) Object.assign(o, draft);
  if (restocked) await settleRestocks(o);
  await verify(m, what, { order: o, etagBefore, changed });
  return { value: got.ok ? got.value : undefined, changed };
}

/**
 * A step that made a restock (CancelUnshipped's rest, a RECEIVED return): it is returned at inventory
 * after the commit, before the call answers, or else by the reconciler. Settled here, deterministically:
 * still PENDING, one reconciler pass; then every restock of the order must be DONE and hold exactly
 * the units the model says.
 */
async function settleRestocks(o: MOrder) {
  const read = async () => {
    const [row] = rowsOf<{ restocks: unknown }>(await h.database.db.execute(sql`select restocks from orders.orders where id = ${o.id}::uuid`));
    return jsonOf<RestockRow[]>(row?.restocks ?? "[]");
  };
  let restocks = await read();
  const pending = restocks.some((r) => r.state !== "DONE");
  count(`restock ${pending ? "settled by the reconciler" : "done after the commit"}`);
  if (pending) {
    await h.module.reconcile();
    restocks = await read();
  }
  expect(
    restocks.map((r) => ({ kind: r.kind, lines: r.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })), state: r.state })),
    `the restocks of ${o.id}`,
  ).toEqual(o.restocks.map((r) => ({ ...r, state: "DONE" })));
}

async function pay(op: Extract<Op, { k: "pay" }>, m: Model) {
  let req: ReportInit;
  const earlier = m.reports.length > 0 && op.evt.k !== "fresh" ? m.reports[op.evt.j % m.reports.length]! : undefined;
  if (op.evt.k === "repeat" && earlier) req = { ...earlier };
  else {
    const o = pick(m, op.i);
    if (!o) return;
    const amount = hasAmount(op.kind) ? resolveAmount(o, op.kind, op.amount) : op.stray ? 5n : undefined;
    req = {
      orderId: o.id,
      providerEventId: op.evt.k === "reuse" && earlier ? earlier.providerEventId : `run${m.run}-evt-${m.evtSeq++}`,
      kind: PaymentEventKind[op.kind],
      amount: amount === undefined ? undefined : { currencyCode: op.usd ? "USD" : "EUR", amountMinor: amount },
      reason: op.reason,
      etag: etagFor(o, op.etag),
    };
  }
  m.reports.push(req);
  const o = m.orders.find((x) => x.id === req.orderId)!;
  const kind = PaymentEventKind[req.kind!] as Kind;
  const amount = req.amount?.amountMinor ?? 0n;
  const currency = req.amount && amount !== 0n ? req.amount.currencyCode! : "";
  const what = `ReportPayment ${req.providerEventId} ${kind} ${req.amount ? `${amount} ${req.amount.currencyCode}` : "-"} on ${o.id}`;
  // Checked before the order is looked at.
  const invalid = hasAmount(kind) ? amount <= 0n : amount !== 0n;
  const mutate = (d: MOrder) => {
    if (invalid) refuse("InvalidArgument", "INVALID_REQUEST");
    found(d);
    const stored = m.stored.get(req.providerEventId);
    if (stored) {
      const same = stored.orderId === d.id && stored.kind === kind && stored.currency === currency && stored.amount === amount && stored.reason === req.reason;
      if (!same) refuse("InvalidArgument", "IDEMPOTENCY_KEY_REUSED");
      return false;
    }
    etagOk(d, req.etag ?? "");
    if (currency !== "" && currency !== "EUR") refuse("InvalidArgument", "CURRENCY_MISMATCH");
    applyReport(d, kind, amount);
    return true;
  };
  const { changed } = await onOrder(m, o, what, mutate, () => payments.reportPayment(req));
  // Taken: stored under its id (a repeat changes nothing, so is never "changed").
  if (changed) m.stored.set(req.providerEventId, { orderId: o.id, kind, currency, amount, reason: req.reason ?? "" });
}

async function ship(op: Extract<Op, { k: "ship" }>, m: Model) {
  let req: ShipRequest;
  if (op.req.k === "repeat" && m.ships.length > 0) req = m.ships[op.req.j % m.ships.length]!;
  else {
    // Mostly an order with units left to put in parcels.
    const open = m.orders.filter((x) => !x.deleted && (x.status === "CONFIRMED" || x.status === "PROCESSING") && left(x).some((q) => q > 0));
    const o = open.length > 0 && op.i % 4 !== 0 ? open[op.i % open.length] : pick(m, op.i);
    if (!o) return;
    const rest = left(o);
    const requestId = op.req.k === "pool" ? `parcel-${op.req.n}` : op.req.k === "shortcut" ? `order-shipped-v${op.req.v}` : `parcel-${m.reqSeq++}-x`;
    req = {
      orderId: o.id,
      requestId,
      lines: op.lines
        .map((l) => {
          const lineNumber = l.line < 0 ? o.qty.length + 1 : (l.line % o.qty.length) + 1;
          return { lineNumber, quantity: l.q.k === "n" ? l.q.n : Math.max(1, rest[lineNumber - 1] ?? 1) };
        })
        .filter((l, k, all) => op.dup || all.findIndex((x) => x.lineNumber === l.lineNumber) === k),
      shippingInfo: op.info === null ? undefined : { ...INFOS[op.info]! },
      etag: etagFor(o, op.etag),
    };
  }
  m.ships.push(req);
  const o = m.orders.find((x) => x.id === req.orderId)!;
  const lines = req.lines.map((l) => ({ lineNo: l.lineNumber, quantity: l.quantity }));
  const key = (ls: MLine[]) => JSON.stringify([...ls].sort((a, b) => a.lineNo - b.lineNo));
  const { value: res } = await onOrder(
    m,
    o,
    `CreateShipment ${req.requestId} ${key(lines)} on ${o.id}`,
    (d) => {
      found(d);
      const existing = d.shipments.find((s) => s.requestId === req.requestId);
      if (existing) {
        if (key(existing.lines) !== key(lines)) refuse("InvalidArgument", "IDEMPOTENCY_KEY_REUSED");
        return false;
      }
      etagOk(d, req.etag);
      if (d.status !== "CONFIRMED" && d.status !== "PROCESSING") refuse("FailedPrecondition", "ILLEGAL_TRANSITION");
      const seen = new Set<number>();
      for (const l of lines) {
        if (l.lineNo < 1 || l.lineNo > d.qty.length) refuse("InvalidArgument", "LINE_NOT_FOUND");
        if (seen.has(l.lineNo)) refuse("InvalidArgument", "INVALID_REQUEST");
        seen.add(l.lineNo);
      }
      const rest = left(d);
      const over = lines.filter((l) => l.quantity > rest[l.lineNo - 1]!).length;
      if (over > 0) refuse("FailedPrecondition", "SHIPMENT_EXCEEDS_ORDERED", over);
      if (d.status === "CONFIRMED") {
        d.history.push(["CONFIRMED", "PROCESSING"]);
        d.status = "PROCESSING";
      }
      d.shipments.push({ id: "", requestId: req.requestId, status: "PENDING", lines: [...lines].sort((a, b) => a.lineNo - b.lineNo), info: req.shippingInfo, adopt: true });
      return true;
    },
    () => staff.createShipment(req),
  );
  if (res) {
    expect(res.shipment?.requestId).toBe(req.requestId);
    const stored = o.shipments.find((s) => s.requestId === req.requestId);
    expect(stored?.id, "the answered shipment is the order's").toBe(res.shipment?.id);
  }
}

async function move(op: Extract<Op, { k: "move" }>, m: Model) {
  // Mostly an order with a parcel that can still move, else one with any parcel.
  const movable = m.orders.filter((x) => !x.deleted && x.shipments.some((sh) => sh.status === "PENDING" || sh.status === "SHIPPED"));
  const withShipments = movable.length > 0 && op.i % 4 !== 0 ? movable : m.orders.filter((x) => x.shipments.length > 0);
  if (withShipments.length === 0 && !op.unknown) return;
  const o = op.unknown ? pick(m, op.i) : withShipments[op.i % withShipments.length];
  if (!o) return;
  // Mostly a parcel that can still move.
  const open = o.shipments.filter((sh) => sh.status === "PENDING" || sh.status === "SHIPPED");
  const from = open.length > 0 && op.s % 3 !== 0 ? open : o.shipments;
  const target = op.unknown ? undefined : from[op.s % from.length];
  const shipmentId = target?.id ?? randomUUID();
  // "next": where the parcel goes next (PENDING → SHIPPED → DELIVERED), else where it is.
  const to: ShStatus = op.to !== "next" ? op.to : target?.status === "PENDING" ? "SHIPPED" : target?.status === "SHIPPED" ? "DELIVERED" : (target?.status ?? "SHIPPED");
  // A parcel delivered "next" goes without shipping info (so that deliveries, and the returns after them, are common);
  // DELIVERED and CANCELLED asked for by name still carry it half the time (INVALID_REQUEST).
  const info = op.info === null || (op.to === "next" && to === "DELIVERED") ? undefined : { ...INFOS[op.info]! };
  const etag = etagFor(o, op.etag);
  await onOrder(
    m,
    o,
    `UpdateShipmentStatus ${shipmentId} → ${to} info ${op.info} on ${o.id}`,
    (d) => {
      found(d);
      etagOk(d, etag);
      const s = d.shipments.find((x) => x.id === shipmentId);
      if (!s) return refuse("NotFound", "SHIPMENT_NOT_FOUND");
      if (info && to !== "PENDING" && to !== "SHIPPED") refuse("InvalidArgument", "INVALID_REQUEST");
      const unchangedInfo = !info || sameInfo(info, s.info);
      if (s.status === to && unchangedInfo) return false;
      if (s.status !== to && !SHIPMENT_TRANSITIONS[s.status].includes(to)) refuse("FailedPrecondition", "ILLEGAL_SHIPMENT_TRANSITION");
      if (s.status === to && to !== "PENDING") refuse("FailedPrecondition", "ILLEGAL_SHIPMENT_TRANSITION");
      const newInfo = info ?? s.info;
      if (to === "SHIPPED" && !newInfo) refuse("FailedPrecondition", "SHIPPING_INFO_REQUIRED");
      Object.assign(s, { status: to, info: newInfo });
      if (to === "SHIPPED") d.info = newInfo;
      // The contract: "once every unit is in SHIPPED or DELIVERED shipments the order is SHIPPED; once every unit is DELIVERED, DELIVERED".
      const { allShipped, allDelivered } = unitsOut(orderedOf(d), d.shipments);
      if (allShipped && d.status === "PROCESSING") {
        d.history.push(["PROCESSING", "SHIPPED"]);
        d.status = "SHIPPED";
      }
      if (allDelivered && d.status === "SHIPPED") {
        d.history.push(["SHIPPED", "DELIVERED"]);
        d.status = "DELIVERED";
      }
      return true;
    },
    () => staff.updateShipmentStatus({ orderId: o.id, shipmentId, status: ShipmentStatus[to], shippingInfo: info, etag }),
  );
}

async function status(op: Extract<Op, { k: "status" }>, m: Model) {
  const o = pick(m, op.i);
  if (!o) return;
  // "next": the first status the table allows from here (or the current one when there is none).
  const to = op.to === "next" ? (TRANSITIONS[o.status][0] ?? o.status) : op.to;
  const etag = etagFor(o, op.etag);
  await onOrder(
    m,
    o,
    `UpdateOrderStatus → ${to} on ${o.id}`,
    (d) => {
      found(d);
      etagOk(d, etag);
      return setStatus(d, to);
    },
    () => staff.updateOrderStatus({ orderId: o.id, status: OrderStatus[to], etag }),
  );
}

async function info(op: Extract<Op, { k: "info" }>, m: Model) {
  const o = pick(m, op.i);
  if (!o) return;
  const etag = etagFor(o, op.etag);
  const shippingInfo = { ...INFOS[op.info]! };
  await onOrder(
    m,
    o,
    `UpdateShippingInfo ${shippingInfo.trackingNumber} on ${o.id}`,
    (d) => {
      found(d);
      etagOk(d, etag);
      if (d.status === "DELIVERED" || d.status === "CANCELLED") refuse("FailedPrecondition", "ORDER_FINALIZED");
      if (sameInfo(d.info, shippingInfo)) return false;
      d.info = shippingInfo;
      return true;
    },
    () => staff.updateShippingInfo({ orderId: o.id, shippingInfo, etag }),
  );
}

async function cancelOrDelete(op: Extract<Op, { k: "cancel" | "delete" }>, m: Model) {
  const o = pick(m, op.i);
  if (!o) return;
  const etag = etagFor(o, op.etag);
  if (op.k === "cancel") {
    await onOrder(
      m,
      o,
      `CancelOrder ${o.id}`,
      (d) => {
        found(d);
        etagOk(d, etag);
        return setStatus(d, "CANCELLED");
      },
      () => staff.cancelOrder({ orderId: o.id, etag }),
    );
    return;
  }
  await onOrder(
    m,
    o,
    `DeleteOrder ${o.id}`,
    (d) => {
      found(d);
      etagOk(d, etag);
      // An order still holding stock is cancelled first.
      if (d.status === "PENDING" || d.status === "CONFIRMED" || d.status === "PROCESSING") setStatus(d, "CANCELLED");
      d.deleted = true;
      return true;
    },
    () => h.orders.deleteOrder({ orderId: o.id, etag }),
  );
}

async function cancelUnshipped(op: Extract<Op, { k: "rest" }>, m: Model) {
  // Mostly an order with parcels gone and a rest still to ship, one in three times one as the other ops pick
  // (with none such, no call two in three times: a CancelUnshipped with nothing shipped cancels the whole order).
  const partly = m.orders.filter((x) => !x.deleted && x.status === "PROCESSING" && x.shipments.some((sh) => sh.status === "SHIPPED" || sh.status === "DELIVERED"));
  const o = partly.length > 0 && op.i % 3 !== 0 ? partly[op.i % partly.length] : op.i % 3 === 0 ? pick(m, op.i) : undefined;
  if (!o) return;
  const etag = etagFor(o, op.etag);
  const restocks = o.restocks.length;
  const { changed } = await onOrder(
    m,
    o,
    `CancelUnshipped${op.customer ? "(customer)" : ""} on ${o.id}`,
    (d) => {
      found(d);
      etagOk(d, etag);
      const sent = unitsIn(d.qty, d.shipments, ["SHIPPED", "DELIVERED"]);
      // Nothing left yet: CancelOrder (unchanged when cancelled already).
      if (sent.every((n) => n === 0)) return setStatus(d, "CANCELLED");
      // Nothing left to ship (SHIPPED, DELIVERED): answered unchanged.
      if (d.status !== "PROCESSING") return false;
      const rest = orderedOf(d).flatMap((q, k) => (q - sent[k]! > 0 ? [{ lineNo: k + 1, quantity: q - sent[k]! }] : []));
      for (const sh of d.shipments) if (sh.status === "PENDING") sh.status = "CANCELLED";
      for (const l of rest) d.cancelled[l.lineNo - 1]! += l.quantity;
      d.restocks.push({ kind: "CANCELLED_REST", lines: rest });
      // Every unit still ordered has left: SHIPPED, and DELIVERED when every one arrived.
      d.history.push(["PROCESSING", "SHIPPED"]);
      d.status = "SHIPPED";
      if (unitsOut(orderedOf(d), d.shipments).allDelivered) {
        d.history.push(["SHIPPED", "DELIVERED"]);
        d.status = "DELIVERED";
      }
      refundDue(d, rest.reduce((sum, l) => sum + d.prices[l.lineNo - 1]! * BigInt(l.quantity), 0n));
      return true;
    },
    () => (op.customer ? m.mine : staff).cancelUnshipped({ orderId: o.id, etag }),
  );
  if (changed) count(`CancelUnshipped: ${o.restocks.length > restocks ? "the rest cancelled" : "the whole order cancelled"}`);
}

async function requestReturn(op: Extract<Op, { k: "return" }>, m: Model) {
  let req: RetRequest;
  const earlier = m.rets.length > 0 && (op.req.k === "repeat" || op.req.k === "reuse") ? m.rets[op.req.j % m.rets.length]! : undefined;
  if (op.req.k === "repeat" && earlier) req = earlier;
  else {
    // An earlier request's order (and id); else mostly an order with units that can still be returned,
    // one in four times any (deleted, cancelled and undelivered ones too); with none returnable, mostly none (no call).
    const returnable = m.orders.filter((x) => !x.deleted && returnableOf(x).some((q) => q > 0));
    const o =
      op.req.k === "reuse" && earlier
        ? m.orders.find((x) => x.id === earlier.orderId)
        : returnable.length > 0 && op.i % 4 !== 0
          ? returnable[op.i % returnable.length]
          : returnable.length > 0 || op.i % 4 === 0
            ? m.orders[op.i % Math.max(1, m.orders.length)]
            : undefined;
    if (!o) return;
    const rest = returnableOf(o);
    const requestId = op.req.k === "reuse" && earlier ? earlier.requestId : op.req.k === "pool" ? `return-${op.req.n}` : `return-${m.reqSeq++}-x`;
    const open = rest.flatMap((q, k) => (q > 0 ? [k + 1] : []));
    const among = op.open && open.length > 0 ? open : o.qty.map((_, k) => k + 1);
    req = {
      orderId: o.id,
      requestId,
      lines: op.lines
        .map((l) => {
          const lineNumber = l.line < 0 ? o.qty.length + 1 : among[l.line % among.length]!;
          return { lineNumber, quantity: l.q.k === "n" ? l.q.n : Math.max(1, (rest[lineNumber - 1] ?? 0) + l.q.d) };
        })
        .filter((l, k, all) => op.dup || all.findIndex((x) => x.lineNumber === l.lineNumber) === k),
      etag: etagFor(o, op.etag),
      customer: op.customer,
    };
  }
  m.rets.push(req);
  const o = m.orders.find((x) => x.id === req.orderId)!;
  const lines = req.lines.map((l) => ({ lineNo: l.lineNumber, quantity: l.quantity }));
  const key = (ls: MLine[]) => JSON.stringify([...ls].sort((a, b) => a.lineNo - b.lineNo));
  const { value: res } = await onOrder(
    m,
    o,
    `RequestReturn${req.customer ? "(customer)" : ""} ${req.requestId} ${key(lines)} on ${o.id}`,
    (d) => {
      found(d);
      // A repeat is answered before the etag is looked at; the same id with other lines is refused.
      const existing = d.returns.find((r) => r.requestId === req.requestId);
      if (existing) {
        if (key(existing.lines) !== key(lines)) refuse("InvalidArgument", "IDEMPOTENCY_KEY_REUSED");
        return false;
      }
      etagOk(d, req.etag);
      const seen = new Set<number>();
      for (const l of lines) {
        if (l.lineNo < 1 || l.lineNo > d.qty.length) refuse("InvalidArgument", "LINE_NOT_FOUND");
        if (seen.has(l.lineNo)) refuse("InvalidArgument", "INVALID_REQUEST");
        seen.add(l.lineNo);
      }
      // A customer's: within RETURN_WINDOW_DAYS (30) of the last delivery, minutes ago here; closed when nothing was delivered.
      if (req.customer && !d.shipments.some((sh) => sh.status === "DELIVERED")) refuse("FailedPrecondition", "RETURN_WINDOW_CLOSED");
      const rest = returnableOf(d);
      const over = lines.filter((l) => l.quantity > rest[l.lineNo - 1]!).length;
      if (over > 0) refuse("FailedPrecondition", "RETURN_EXCEEDS_DELIVERED", over);
      d.returns.push({ id: "", requestId: req.requestId, status: "REQUESTED", lines: [...lines].sort((a, b) => a.lineNo - b.lineNo), refund: undefined, adopt: true });
      return true;
    },
    () => (req.customer ? m.mine : staff).requestReturn({ orderId: req.orderId, requestId: req.requestId, lines: req.lines, etag: req.etag }),
  );
  if (res) {
    // The return made, or for a repeat the one made first.
    const stored = o.returns.find((r) => r.requestId === req.requestId);
    expect({ id: res.return?.id, requestId: res.return?.requestId }, "the answered return is the order's").toEqual({ id: stored?.id, requestId: req.requestId });
  }
}

async function moveReturn(op: Extract<Op, { k: "retmove" }>, m: Model) {
  // Mostly an order with a return that can still move, one in four times one with any return (with none movable, no call
  // three times in four).
  const movable = m.orders.filter((x) => !x.deleted && x.returns.some((r) => RETURN_TRANSITIONS[r.status].length > 0));
  const withReturns = movable.length > 0 && op.i % 4 !== 0 ? movable : op.i % 4 === 0 ? m.orders.filter((x) => x.returns.length > 0) : [];
  if (withReturns.length === 0 && !op.unknown) return;
  const o = op.unknown ? pick(m, op.i) : withReturns[op.i % withReturns.length];
  if (!o) return;
  // Mostly a return that can still move.
  const open = o.returns.filter((r) => RETURN_TRANSITIONS[r.status].length > 0);
  const from = open.length > 0 && op.r % 3 !== 0 ? open : o.returns;
  const target = op.unknown ? undefined : from[op.r % from.length];
  const returnId = target?.id ?? randomUUID();
  // "next": where the return goes next on its way in (REQUESTED → APPROVED → RECEIVED), else where it is.
  const to: RStatus =
    op.to !== "next" ? op.to : target?.status === "REQUESTED" ? "APPROVED" : target?.status === "APPROVED" ? "RECEIVED" : (target?.status ?? "APPROVED");
  const etag = etagFor(o, op.etag);
  const { value: res } = await onOrder(
    m,
    o,
    `UpdateReturnStatus→${to} ${returnId} on ${o.id}`,
    (d) => {
      found(d);
      etagOk(d, etag);
      const r = d.returns.find((x) => x.id === returnId);
      if (!r) return refuse("NotFound", "RETURN_NOT_FOUND");
      if (r.status === to) return false;
      if (!RETURN_TRANSITIONS[r.status].includes(to)) refuse("FailedPrecondition", "ILLEGAL_RETURN_TRANSITION");
      r.status = to;
      if (to === "RECEIVED") {
        // Back in stock (a restock), and its value as ordered falls due, capped at what was captured and is not yet refunded or owed.
        r.refund = r.lines.reduce((sum, l) => sum + d.prices[l.lineNo - 1]! * BigInt(l.quantity), 0n);
        d.restocks.push({ kind: "RETURN", lines: r.lines });
        refundDue(d, r.refund);
      }
      return true;
    },
    () => staff.updateReturnStatus({ orderId: o.id, returnId, status: ReturnStatus[to], etag }),
  );
  if (res) {
    const stored = o.returns.find((r) => r.id === returnId)!;
    expect({ id: res.return?.id, status: res.return && ReturnStatus[res.return.status], refund: res.return?.refund?.amountMinor }).toEqual({
      id: stored.id,
      status: stored.status,
      refund: stored.refund,
    });
  }
}

async function apply(op: Op, m: Model) {
  switch (op.k) {
    case "create":
      await create(op, m);
      await verify(m, "create");
      return;
    case "pay":
      return pay(op, m);
    case "ship":
      return ship(op, m);
    case "move":
      return move(op, m);
    case "status":
      return status(op, m);
    case "info":
      return info(op, m);
    case "cancel":
    case "delete":
      return cancelOrDelete(op, m);
    case "rest":
      return cancelUnshipped(op, m);
    case "return":
      return requestReturn(op, m);
    case "retmove":
      return moveReturn(op, m);
  }
}

/** One sequence on fresh products and a fresh customer, every call checked. */
async function runSequence(ops: readonly Op[]) {
  const products = await Promise.all(PRICES.map((price) => newProduct(h, INITIAL, price)));
  const customerId = await newCustomer(h);
  const m: Model = {
    run: runs++,
    products,
    customerId,
    mine: h.as(customer(customerId)).orders,
    orders: [],
    reports: [],
    stored: new Map(),
    ships: [],
    rets: [],
    seen: new Map(),
    evtSeq: 0,
    reqSeq: 0,
  };
  for (const op of ops) await apply(op, m);
  // How deep the run went (PROPERTY_STATS): orders with a unit delivered, a return received, units cancelled.
  const reached = (what: string, n: number) => count(`run: ${what}: ${n > 0 ? "yes" : "no"}`);
  reached("a unit delivered", m.orders.filter((o) => o.shipments.some((sh) => sh.status === "DELIVERED")).length);
  reached("a return received", m.orders.filter((o) => o.returns.some((r) => r.status === "RECEIVED")).length);
  reached("units cancelled", m.orders.filter((o) => o.cancelled.some((n) => n > 0)).length);
}

describe("the order domain (payments, shipments, status, stock)", () => {
  it("keeps its invariants over random sequences of operations", async () => {
    await fc.assert(
      // A create first (else nothing to work on), the usual steps of its life, then up to 59 more operations of any kind
      // (no minimum: a counterexample shrinks to its few steps).
      fc.asyncProperty(
        fc.tuple(createArb, usualArb, fc.array(opArb, { maxLength: 59, size: "max" })),
        async ([first, usual, rest]) => {
          await runSequence([first, ...usual, ...rest]);
        },
      ),
      {
        // More locally: PROPERTY_RUNS=500 (and PROPERTY_SEED=<seed> to replay one).
        numRuns: Number(process.env.PROPERTY_RUNS ?? 25),
        ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}),
        examples: [
          [
            [
              // Pay in full, ship in two parcels, deliver one; refuse to cancel; deliver the rest.
              { k: "create", lines: [{ p: 0, q: 3 }, { p: 1, q: 2 }] },
              [],
              [
                { k: "pay", i: 0, kind: "CAPTURED", amount: { k: "limit", d: 0 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "ship", i: 0, lines: [{ line: 0, q: { k: "n", n: 2 } }], dup: false, req: { k: "fresh" }, info: 0, etag: "current" },
                { k: "ship", i: 0, lines: [{ line: 0, q: { k: "rest" } }, { line: 1, q: { k: "rest" } }], dup: false, req: { k: "pool", n: 0 }, info: null, etag: "none" },
                { k: "ship", i: 0, lines: [{ line: 1, q: { k: "n", n: 1 } }], dup: false, req: { k: "repeat", j: 1 }, info: null, etag: "stale" },
                { k: "move", i: 0, s: 0, to: "SHIPPED", info: null, unknown: false, etag: "none" },
                { k: "move", i: 0, s: 0, to: "DELIVERED", info: null, unknown: false, etag: "none" },
                { k: "cancel", i: 0, etag: "none" },
                { k: "move", i: 0, s: 1, to: "SHIPPED", info: null, unknown: false, etag: "none" },
                { k: "move", i: 0, s: 1, to: "SHIPPED", info: 1, unknown: false, etag: "none" },
                { k: "move", i: 0, s: 1, to: "DELIVERED", info: null, unknown: false, etag: "none" },
                { k: "pay", i: 0, kind: "REFUNDED", amount: { k: "limit", d: 1 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "delete", i: 0, etag: "none" },
              ],
            ],
          ],
          [
            [
              // Capture, cancel (a refund falls due), capture after the cancel, refund part, repeat a report, the shortcut, delete.
              { k: "create", lines: [{ p: 2, q: 1 }] },
              [],
              [
                { k: "create", lines: [{ p: 0, q: 2 }, { p: 0, q: 1 }] },
                { k: "pay", i: 0, kind: "AUTHORIZED", amount: { k: "limit", d: 0 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "pay", i: 0, kind: "CAPTURED", amount: { k: "quarter", n: 2 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "ship", i: 0, lines: [{ line: 0, q: { k: "rest" } }], dup: false, req: { k: "fresh" }, info: null, etag: "none" },
                { k: "cancel", i: 0, etag: "none" },
                { k: "pay", i: 0, kind: "CAPTURED", amount: { k: "limit", d: 0 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "pay", i: 0, kind: "REFUNDED", amount: { k: "one" }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "pay", i: 0, kind: "CAPTURED", amount: { k: "one" }, stray: false, usd: false, evt: { k: "repeat", j: 2 }, reason: "", etag: "none" },
                { k: "status", i: 1, to: "PROCESSING", etag: "none" },
                { k: "status", i: 1, to: "SHIPPED", etag: "none" },
                { k: "info", i: 1, info: 0, etag: "none" },
                { k: "status", i: 1, to: "SHIPPED", etag: "current" },
                { k: "status", i: 1, to: "DELIVERED", etag: "none" },
                { k: "delete", i: 1, etag: "none" },
                { k: "pay", i: 1, kind: "VOIDED", amount: { k: "one" }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
              ],
            ],
          ],
          [
            [
              // Pay, deliver one parcel of line 1; return it (as the customer), over the limit, a line not delivered, a repeat,
              // the request id with other lines; approve, receive (refund due, stock back), again, reject; cancel the rest
              // (its value due, stock back: the order is DELIVERED); refund everything.
              { k: "create", lines: [{ p: 0, q: 3 }, { p: 1, q: 2 }] },
              [
                { k: "pay", i: 0, kind: "CAPTURED", amount: { k: "limit", d: 0 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "ship", i: 0, lines: [{ line: 0, q: { k: "n", n: 2 } }], dup: false, req: { k: "fresh" }, info: 0, etag: "none" },
                { k: "move", i: 0, s: 0, to: "next", info: null, unknown: false, etag: "none" },
                { k: "move", i: 0, s: 0, to: "next", info: null, unknown: false, etag: "none" },
              ],
              [
                { k: "return", i: 1, lines: [{ line: 0, q: { k: "limit", d: 0 } }], open: false, dup: false, req: { k: "fresh" }, customer: true, etag: "current" },
                { k: "return", i: 0, lines: [{ line: 0, q: { k: "limit", d: 1 } }], open: false, dup: false, req: { k: "fresh" }, customer: false, etag: "none" },
                { k: "return", i: 0, lines: [{ line: 1, q: { k: "n", n: 1 } }], open: false, dup: false, req: { k: "fresh" }, customer: false, etag: "none" },
                { k: "return", i: 0, lines: [{ line: -1, q: { k: "n", n: 1 } }], open: false, dup: false, req: { k: "fresh" }, customer: false, etag: "none" },
                { k: "return", i: 1, lines: [], open: false, dup: false, req: { k: "repeat", j: 0 }, customer: false, etag: "none" },
                { k: "return", i: 1, lines: [{ line: 0, q: { k: "n", n: 1 } }], open: false, dup: false, req: { k: "reuse", j: 0 }, customer: false, etag: "none" },
                { k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "stale" },
                { k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "current" },
                { k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "none" },
                { k: "retmove", i: 1, r: 1, to: "RECEIVED", unknown: false, etag: "none" },
                { k: "retmove", i: 1, r: 1, to: "REJECTED", unknown: false, etag: "none" },
                { k: "rest", i: 1, customer: false, etag: "none" },
                { k: "rest", i: 0, customer: true, etag: "none" },
                { k: "pay", i: 0, kind: "REFUNDED", amount: { k: "limit", d: 0 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
              ],
            ],
          ],
          [
            [
              // A customer's return of nothing delivered; a CancelUnshipped with nothing shipped (a cancellation, its refund due);
              // the shortcut delivers; returns from a pool (a repeat with a stale etag), an unknown return, a rejected one and
              // one received with nothing captured (no refund due); moves of a deleted order's return.
              { k: "create", lines: [{ p: 2, q: 1 }] },
              [],
              [
                { k: "create", lines: [{ p: 0, q: 2 }] },
                { k: "return", i: 0, lines: [{ line: 0, q: { k: "n", n: 1 } }], open: false, dup: false, req: { k: "fresh" }, customer: true, etag: "none" },
                { k: "return", i: 0, lines: [{ line: 0, q: { k: "n", n: 1 } }, { line: 0, q: { k: "n", n: 1 } }], open: false, dup: true, req: { k: "fresh" }, customer: false, etag: "none" },
                { k: "return", i: 0, lines: [{ line: 0, q: { k: "n", n: 1 } }], open: false, dup: false, req: { k: "fresh" }, customer: false, etag: "none" },
                { k: "pay", i: 1, kind: "CAPTURED", amount: { k: "limit", d: 0 }, stray: false, usd: false, evt: { k: "fresh" }, reason: "", etag: "none" },
                { k: "rest", i: 3, customer: true, etag: "current" },
                { k: "info", i: 0, info: 0, etag: "none" },
                { k: "status", i: 0, to: "PROCESSING", etag: "none" },
                { k: "status", i: 0, to: "SHIPPED", etag: "none" },
                { k: "rest", i: 0, customer: false, etag: "none" },
                { k: "status", i: 0, to: "DELIVERED", etag: "none" },
                { k: "rest", i: 0, customer: false, etag: "none" },
                { k: "return", i: 0, lines: [{ line: 0, q: { k: "limit", d: 0 } }], open: false, dup: false, req: { k: "pool", n: 0 }, customer: false, etag: "none" },
                { k: "return", i: 0, lines: [{ line: 0, q: { k: "limit", d: 0 } }], open: false, dup: false, req: { k: "pool", n: 0 }, customer: false, etag: "stale" },
                { k: "retmove", i: 0, r: 0, to: "next", unknown: true, etag: "none" },
                { k: "retmove", i: 0, r: 0, to: "REJECTED", unknown: false, etag: "none" },
                { k: "return", i: 1, lines: [{ line: 0, q: { k: "limit", d: -1 } }], open: false, dup: false, req: { k: "fresh" }, customer: true, etag: "none" },
                { k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "stale" },
                { k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "current" },
                { k: "retmove", i: 1, r: 1, to: "next", unknown: false, etag: "none" },
                { k: "delete", i: 0, etag: "none" },
                { k: "retmove", i: 0, r: 0, to: "APPROVED", unknown: false, etag: "none" },
              ],
            ],
          ],
        ],
      },
    );
  }, 300_000);

  // The shortcut's parcel gets its id in a namespace of its own: a client's parcel with request id
  // "order-shipped-v5" (the name it once took) on an order at version 4 must not share it.
  it("the SHIPPED shortcut never gives its parcel the id of a client's parcel", async () => {
    await runSequence([
      { k: "create", lines: [{ p: 0, q: 2 }] },
      { k: "ship", i: 0, lines: [{ line: 0, q: { k: "n", n: 1 } }], dup: false, req: { k: "shortcut", v: 5 }, info: null, etag: "none" },
      { k: "info", i: 0, info: 0, etag: "none" },
      { k: "status", i: 0, to: "SHIPPED", etag: "none" },
    ]);
  });
});
