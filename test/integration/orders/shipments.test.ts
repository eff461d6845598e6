/**
 * Split fulfilment (README "Shipments"): CreateShipment puts some of an
 * order's units in a parcel (a CONFIRMED order moves to PROCESSING with its
 * first one, REQUIRE_CAPTURE_BEFORE_FULFILMENT applying), never more of a
 * line than was ordered (CANCELLED parcels free their units); shipment ids
 * are UUIDv5 of (order, request_id) and a repeat answers the same shipment,
 * whatever etag it carries. UpdateShipmentStatus moves a parcel by its table
 * and the order follows: SHIPPED once every unit left, DELIVERED once every
 * unit arrived; each change is one version and one OrderShipmentChanged.
 * CancelOrder cancels PENDING parcels and is refused once one left (and so
 * is DeleteOrder). UpdateOrderStatus SHIPPED / DELIVERED is the one-shipment
 * shortcut for clients that know no shipments. Only staff, admins and
 * services ship; the order's customer reads the parcels. On real Postgres,
 * concurrent shipments never put more in parcels than was ordered.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { OrderCancelledSchema, OrderShipmentChangedSchema, OrderStatusChangedSchema } from "../../../gen/orders/v1/order_events_pb.js";
import {
  FulfilmentStatus,
  OrderStatus,
  PaymentEventKind,
  ShipmentStatus,
  type Order,
  type Shipment,
  type StatusChange,
} from "../../../gen/orders/v1/order_service_pb.js";
import { servicePrincipal } from "../../../src/kernel/principal.js";
import { shipmentIdFor, shortcutShipmentIdFor } from "../../../src/orders/domain/fulfilment.js";
import { rowsOf } from "../../../src/platform/db.js";
import { customer, STAFF } from "../../support/auth.js";
import { onRealPostgres } from "../../support/db.js";
import { errorInfoOf, fieldViolationsOf, preconditionViolationsOf, rpcFailure } from "../../support/rpc-errors.js";
import { createFaults } from "./faults.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, type OrdersHarness } from "./harness.js";
import { expectFailure } from "./rpc-assert.js";

const faults = createFaults();
let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness({ transformImpl: faults.transformImpl });
});
afterAll(() => h.close());
afterEach(() => faults.clear());

const PRICE = 1000n;
const SHIPMENT_CHANGED = "orders.v1.OrderShipmentChanged";
const STATUS_CHANGED = "orders.v1.OrderStatusChanged";
const CANCELLED_EVENT = "orders.v1.OrderCancelled";
/** Who h.orders calls as (asPermitted). */
const ADMIN_ACTOR = "admin:test-admin";

interface Info {
  carrier: string;
  trackingNumber: string;
}
const UPS: Info = { carrier: "UPS", trackingNumber: "1Z001" };
const DHL: Info = { carrier: "DHL", trackingNumber: "JD002" };
const GLS: Info = { carrier: "GLS", trackingNumber: "GL003" };
const infoOf = (i: Info | undefined) => (i ? `${i.carrier} ${i.trackingNumber}` : "unset");

/** A CONFIRMED order with one line per entry of `quantities` (a product each, at PRICE in EUR). */
async function placeOrder(quantities: number[] = [2, 1], harness: OrdersHarness = h) {
  const customerId = await newCustomer(harness);
  const items = [];
  for (const quantity of quantities) items.push({ productId: await newProduct(harness, 1000, PRICE), quantity });
  const { order } = await harness.orders.createOrder({ customerId, requestId: requestId(), items });
  expect(order!.status).toBe(OrderStatus.CONFIRMED);
  expect(order!.lines.map((l) => l.quantity)).toEqual(quantities);
  expect(order!.shipments).toEqual([]);
  expect(FulfilmentStatus[order!.fulfilmentStatus]).toBe("UNFULFILLED");
  return { order: order!, customerId };
}

/** A CreateOrder whose sale inventory does not confirm: the order stays PENDING. */
async function placePending() {
  const [productId, customerId] = [await newProduct(h, 10, PRICE), await newCustomer(h)];
  faults.set("commitReservation", { kind: "unavailable" });
  const err = await expectFailure(h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }] }), Code.Unavailable, "ORDER_NOT_CONFIRMED");
  expect(err.findDetails(RetryInfoSchema)).toHaveLength(1);
  faults.clear();
  const [order] = (await h.orders.listOrders({ customerId })).orders;
  expect(order!.status).toBe(OrderStatus.PENDING);
  return order!;
}

type Lines = [lineNumber: number, quantity: number][];

interface ShipArgs {
  rid?: string;
  info?: Info;
  etag?: string;
  harness?: OrdersHarness;
}

const shipRequest = (orderId: string, lines: Lines, a: ShipArgs = {}) => ({
  orderId,
  requestId: a.rid ?? requestId(),
  lines: lines.map(([lineNumber, quantity]) => ({ lineNumber, quantity })),
  shippingInfo: a.info,
  etag: a.etag ?? "",
});

const createShipment = (orderId: string, lines: Lines, a: ShipArgs = {}) => (a.harness ?? h).orders.createShipment(shipRequest(orderId, lines, a));

interface MoveArgs {
  info?: Info;
  reason?: string;
  etag?: string;
}

const moveShipment = (orderId: string, shipmentId: string, status: ShipmentStatus, a: MoveArgs = {}) =>
  h.orders.updateShipmentStatus({ orderId, shipmentId, status, shippingInfo: a.info, reason: a.reason ?? "", etag: a.etag ?? "" });

const setStatus = (orderId: string, status: OrderStatus, reason = "") => h.orders.updateOrderStatus({ orderId, status, reason });

/** A shipment, readable. */
function parcelOf(s: Shipment | undefined) {
  if (!s) return undefined;
  return {
    id: s.id,
    requestId: s.requestId,
    status: ShipmentStatus[s.status],
    lines: s.lines.map((l) => [l.lineNumber, l.quantity]),
    info: infoOf(s.shippingInfo),
    created: s.createTime !== undefined,
    shipped: s.shipTime !== undefined,
    delivered: s.deliverTime !== undefined,
  };
}

/** What parcelOf gives for a shipment of `rid` on `orderId` in `status`. */
const parcel = (orderId: string, rid: string, status: keyof typeof ShipmentStatus, lines: Lines, info = "unset") => ({
  id: shipmentIdFor(orderId, rid),
  requestId: rid,
  status,
  lines,
  info,
  created: true,
  shipped: status === "SHIPPED" || status === "DELIVERED",
  delivered: status === "DELIVERED",
});

const changeOf = (c: StatusChange) => [OrderStatus[c.fromStatus], OrderStatus[c.toStatus], c.reason, c.actor];

/** The order's fulfilment, readable. */
function stateOf(o: Order | undefined) {
  if (!o) return undefined;
  return {
    status: OrderStatus[o.status],
    fulfilment: FulfilmentStatus[o.fulfilmentStatus],
    info: infoOf(o.shippingInfo),
    parcels: o.shipments.map(parcelOf),
  };
}

interface StoredEvent {
  type: string;
  version: number;
  payload: JsonValue;
}

const json = (v: string | JsonValue): JsonValue => (typeof v === "string" ? (JSON.parse(v) as JsonValue) : v);

/** The order's outbox events after `afterVersion`, in commit order. */
async function eventsOf(orderId: string, afterVersion = 0, harness: OrdersHarness = h): Promise<StoredEvent[]> {
  const rows = rowsOf<{ type: string; version: number; payload: string | JsonValue }>(
    await harness.database.db.execute(
      sql`select event_type as type, version, payload from orders.outbox where aggregate_id = ${orderId}::uuid and version > ${afterVersion} order by id`,
    ),
  );
  return rows.map((r) => ({ type: r.type, version: Number(r.version), payload: json(r.payload) }));
}

/** The order's row as stored: version, status, the fulfilment column and the shipments jsonb. */
async function storedOf(orderId: string, harness: OrdersHarness = h) {
  const rows = rowsOf<{ version: number; status: string; fulfilment: string; shipments: string | JsonValue }>(
    await harness.database.db.execute(
      sql`select version, status, fulfilment_status as fulfilment, shipments from orders.orders where id = ${orderId}::uuid`,
    ),
  );
  const r = rows[0]!;
  const shipments = json(r.shipments) as { id: string; status: string; lines: { lineNo: number; quantity: number }[] }[];
  return { version: Number(r.version), status: r.status, fulfilment: r.fulfilment, shipments };
}

const versionOf = async (orderId: string, harness: OrdersHarness = h) => (await storedOf(orderId, harness)).version;

/** What must not move when a call is refused (or repeated). */
async function snapshot(orderId: string, harness: OrdersHarness = h) {
  const o = (await harness.orders.getOrder({ orderId })).order!;
  return {
    etag: o.etag,
    state: stateOf(o),
    history: o.history.map(changeOf),
    stored: await storedOf(orderId, harness),
    events: (await eventsOf(orderId, 0, harness)).length,
  };
}

const decodeShipmentChanged = (e: StoredEvent) => {
  expect(e.type).toBe(SHIPMENT_CHANGED);
  const m = fromJson(OrderShipmentChangedSchema, e.payload);
  return { version: m.version, parcels: m.shipments.map(parcelOf), changes: m.changes.map(changeOf), etag: m.order!.etag, state: stateOf(m.order) };
};

describe("two parcels", () => {
  it("the order follows its parcels: PROCESSING, PARTIALLY_SHIPPED, SHIPPED, PARTIALLY_DELIVERED, DELIVERED; GetOrder and the events agree", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const v0 = await versionOf(id);
    const [rid1, rid2] = [requestId(), requestId()];
    const answers: { order?: Order; shipment?: Shipment }[] = [];

    // Parcel 1 (line 1 × 2) on the CONFIRMED order: fulfilment starts.
    const c1 = await createShipment(id, [[1, 2]], { rid: rid1 });
    answers.push(c1);
    const p1 = c1.shipment!.id;
    expect(p1).toBe(shipmentIdFor(id, rid1));
    expect(parcelOf(c1.shipment)).toEqual(parcel(id, rid1, "PENDING", [[1, 2]]));
    expect(stateOf(c1.order)).toEqual({ status: "PROCESSING", fulfilment: "UNFULFILLED", info: "unset", parcels: [parcel(id, rid1, "PENDING", [[1, 2]])] });
    expect(c1.order!.history.slice(2).map(changeOf)).toEqual([["CONFIRMED", "PROCESSING", "fulfilment started", ADMIN_ACTOR]]);
    expect(c1.order!.etag).not.toBe(order.etag);

    // It leaves: the order is partly shipped, still PROCESSING, and shows this parcel's tracking.
    const s1 = await moveShipment(id, p1, ShipmentStatus.SHIPPED, { info: UPS });
    answers.push(s1);
    expect(parcelOf(s1.shipment)).toEqual(parcel(id, rid1, "SHIPPED", [[1, 2]], "UPS 1Z001"));
    expect(stateOf(s1.order)).toEqual({
      status: "PROCESSING",
      fulfilment: "PARTIALLY_SHIPPED",
      info: "UPS 1Z001",
      parcels: [parcel(id, rid1, "SHIPPED", [[1, 2]], "UPS 1Z001")],
    });
    expect(s1.order!.history).toHaveLength(3);

    // Parcel 2 (line 2 × 1), its tracking given at creation.
    const c2 = await createShipment(id, [[2, 1]], { rid: rid2, info: DHL });
    answers.push(c2);
    const p2 = c2.shipment!.id;
    expect(parcelOf(c2.shipment)).toEqual(parcel(id, rid2, "PENDING", [[2, 1]], "DHL JD002"));
    expect(stateOf(c2.order)).toMatchObject({ status: "PROCESSING", fulfilment: "PARTIALLY_SHIPPED", info: "UPS 1Z001" });
    expect(c2.order!.history).toHaveLength(3);

    // It leaves too: every unit is out, the order is SHIPPED by itself.
    const s2 = await moveShipment(id, p2, ShipmentStatus.SHIPPED);
    answers.push(s2);
    expect(stateOf(s2.order)).toEqual({
      status: "SHIPPED",
      fulfilment: "SHIPPED",
      info: "DHL JD002",
      parcels: [parcel(id, rid1, "SHIPPED", [[1, 2]], "UPS 1Z001"), parcel(id, rid2, "SHIPPED", [[2, 1]], "DHL JD002")],
    });
    expect(s2.order!.history.slice(3).map(changeOf)).toEqual([["PROCESSING", "SHIPPED", "every unit shipped", ADMIN_ACTOR]]);

    // Parcel 1 arrives: partly delivered.
    const d1 = await moveShipment(id, p1, ShipmentStatus.DELIVERED);
    answers.push(d1);
    expect(parcelOf(d1.shipment)).toEqual(parcel(id, rid1, "DELIVERED", [[1, 2]], "UPS 1Z001"));
    expect(stateOf(d1.order)).toMatchObject({ status: "SHIPPED", fulfilment: "PARTIALLY_DELIVERED" });
    expect(d1.order!.history).toHaveLength(4);

    // Parcel 2 arrives: the order is DELIVERED, with the caller's reason.
    const d2 = await moveShipment(id, p2, ShipmentStatus.DELIVERED, { reason: "left with a neighbour" });
    answers.push(d2);
    const finalState = {
      status: "DELIVERED",
      fulfilment: "DELIVERED",
      info: "DHL JD002",
      parcels: [parcel(id, rid1, "DELIVERED", [[1, 2]], "UPS 1Z001"), parcel(id, rid2, "DELIVERED", [[2, 1]], "DHL JD002")],
    };
    expect(stateOf(d2.order)).toEqual(finalState);
    expect(d2.order!.history.slice(4).map(changeOf)).toEqual([["SHIPPED", "DELIVERED", "left with a neighbour", ADMIN_ACTOR]]);
    expect(new Set(answers.map((a) => a.order!.etag)).size).toBe(6);

    // GetOrder agrees, and so does the stored row.
    const got = (await h.orders.getOrder({ orderId: id })).order!;
    expect(stateOf(got)).toEqual(finalState);
    expect(got.etag).toBe(d2.order!.etag);
    expect(got.history.map(changeOf)).toEqual(d2.order!.history.map(changeOf));
    const stored = await storedOf(id);
    expect({ version: stored.version, status: stored.status, fulfilment: stored.fulfilment }).toEqual({ version: v0 + 6, status: "DELIVERED", fulfilment: "DELIVERED" });

    // One OrderShipmentChanged per change, at its version, with the parcel it made or moved and the order's moves.
    const events = await eventsOf(id, v0);
    expect(events.map((e) => [e.type, e.version])).toEqual(Array.from({ length: 6 }, (_, i) => [SHIPMENT_CHANGED, v0 + i + 1]));
    const decoded = events.map(decodeShipmentChanged);
    expect(decoded.map((d) => ({ version: d.version, parcels: d.parcels, changes: d.changes }))).toEqual([
      { version: v0 + 1, parcels: [parcel(id, rid1, "PENDING", [[1, 2]])], changes: [["CONFIRMED", "PROCESSING", "fulfilment started", ADMIN_ACTOR]] },
      { version: v0 + 2, parcels: [parcel(id, rid1, "SHIPPED", [[1, 2]], "UPS 1Z001")], changes: [] },
      { version: v0 + 3, parcels: [parcel(id, rid2, "PENDING", [[2, 1]], "DHL JD002")], changes: [] },
      { version: v0 + 4, parcels: [parcel(id, rid2, "SHIPPED", [[2, 1]], "DHL JD002")], changes: [["PROCESSING", "SHIPPED", "every unit shipped", ADMIN_ACTOR]] },
      { version: v0 + 5, parcels: [parcel(id, rid1, "DELIVERED", [[1, 2]], "UPS 1Z001")], changes: [] },
      { version: v0 + 6, parcels: [parcel(id, rid2, "DELIVERED", [[2, 1]], "DHL JD002")], changes: [["SHIPPED", "DELIVERED", "left with a neighbour", ADMIN_ACTOR]] },
    ]);
    // Each event's order is the order the call answered.
    decoded.forEach((d, i) => {
      expect(d.etag).toBe(answers[i]!.order!.etag);
      expect(d.state).toEqual(stateOf(answers[i]!.order));
    });
  });

  // A delivery before the last parcel leaves must not hide that every unit has left
  // (the fulfilment status says PARTIALLY_DELIVERED then): the order follows the units.
  it("a parcel delivered before the last one leaves: the order is SHIPPED when the last one leaves", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const p1 = (await createShipment(id, [[1, 2]], { info: UPS })).shipment!.id;
    const p2 = (await createShipment(id, [[2, 1]], { info: DHL })).shipment!.id;
    await moveShipment(id, p1, ShipmentStatus.SHIPPED);
    const d1 = await moveShipment(id, p1, ShipmentStatus.DELIVERED);
    expect(stateOf(d1.order)).toMatchObject({ status: "PROCESSING", fulfilment: "PARTIALLY_DELIVERED" });

    const s2 = await moveShipment(id, p2, ShipmentStatus.SHIPPED);
    expect(s2.order!.history.slice(3).map(changeOf)).toEqual([["PROCESSING", "SHIPPED", "every unit shipped", ADMIN_ACTOR]]);
    expect(OrderStatus[s2.order!.status]).toBe("SHIPPED");
  });
});

describe("quantities", () => {
  it("never more of a line in parcels than ordered: one violation per line over, saying how many units are left", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;

    // On the CONFIRMED order: refused, and the order does not start fulfilment.
    let before = await snapshot(id);
    let err = await expectFailure(createShipment(id, [[1, 3]]), Code.FailedPrecondition, "SHIPMENT_EXCEEDS_ORDERED");
    expect(preconditionViolationsOf(err).map((v) => [v.type, v.subject, v.description])).toEqual([
      ["SHIPMENT_EXCEEDS_ORDERED", `orders/${id}/lines/1`, "2 units left to ship"],
    ]);
    expect(await snapshot(id)).toEqual(before);
    expect(before.state?.status).toBe("CONFIRMED");

    const a = await createShipment(id, [[1, 1], [2, 1]]);
    expect(parcelOf(a.shipment)?.lines).toEqual([[1, 1], [2, 1]]);

    before = await snapshot(id);
    err = await expectFailure(createShipment(id, [[1, 2], [2, 1]]), Code.FailedPrecondition, "SHIPMENT_EXCEEDS_ORDERED");
    expect(preconditionViolationsOf(err).map((v) => [v.subject, v.description])).toEqual([
      [`orders/${id}/lines/1`, "1 unit left to ship"],
      [`orders/${id}/lines/2`, "0 units left to ship"],
    ]);
    // A line within what is left is not named.
    err = await expectFailure(createShipment(id, [[1, 1], [2, 1]]), Code.FailedPrecondition, "SHIPMENT_EXCEEDS_ORDERED");
    expect(preconditionViolationsOf(err).map((v) => [v.subject, v.description])).toEqual([[`orders/${id}/lines/2`, "0 units left to ship"]]);
    expect(errorInfoOf(err)?.metadata).toMatchObject({ orderId: id });
    expect(await snapshot(id)).toEqual(before);

    // What is left fits exactly.
    const b = await createShipment(id, [[1, 1]]);
    expect(stateOf(b.order)?.parcels.map((p) => [p!.status, p!.lines])).toEqual([
      ["PENDING", [[1, 1], [2, 1]]],
      ["PENDING", [[1, 1]]],
    ]);
    await expectFailure(createShipment(id, [[1, 1]]), Code.FailedPrecondition, "SHIPMENT_EXCEEDS_ORDERED");

    // A CANCELLED parcel frees its units: they go into a new one.
    const cancelled = await moveShipment(id, a.shipment!.id, ShipmentStatus.CANCELLED);
    expect(parcelOf(cancelled.shipment)).toMatchObject({ status: "CANCELLED", shipped: false, delivered: false });
    expect(stateOf(cancelled.order)).toMatchObject({ status: "PROCESSING", fulfilment: "UNFULFILLED" });
    const c = await createShipment(id, [[1, 1], [2, 1]]);
    expect(stateOf(c.order)?.parcels.map((p) => [p!.status, p!.lines])).toEqual([
      ["CANCELLED", [[1, 1], [2, 1]]],
      ["PENDING", [[1, 1]]],
      ["PENDING", [[1, 1], [2, 1]]],
    ]);
    err = await expectFailure(createShipment(id, [[2, 1]]), Code.FailedPrecondition, "SHIPMENT_EXCEEDS_ORDERED");
    expect(preconditionViolationsOf(err).map((v) => v.description)).toEqual(["0 units left to ship"]);
  });

  it("refuses line 0 (validation), a line the order lacks (LINE_NOT_FOUND) and a line given twice, changing nothing", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const before = await snapshot(id);

    let err = await expectFailure(createShipment(id, [[0, 1]]), Code.InvalidArgument, "INVALID_REQUEST");
    expect(fieldViolationsOf(err).map((v) => v.field).join()).toMatch(/line_number/);
    err = await expectFailure(createShipment(id, [[1, 0]]), Code.InvalidArgument, "INVALID_REQUEST");
    expect(fieldViolationsOf(err).map((v) => v.field).join()).toMatch(/quantity/);
    await expectFailure(createShipment(id, []), Code.InvalidArgument, "INVALID_REQUEST");

    err = await expectFailure(createShipment(id, [[3, 1]]), Code.InvalidArgument, "LINE_NOT_FOUND");
    expect(fieldViolationsOf(err).map((v) => [v.field, v.description])).toEqual([["lines.line_number", "order lines are 1 to 2"]]);
    await expectFailure(createShipment(id, [[1, 1], [3, 1]]), Code.InvalidArgument, "LINE_NOT_FOUND");

    err = await rpcFailure(createShipment(id, [[1, 1], [1, 1]]));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(["lines.line_number"]);

    expect(await snapshot(id)).toEqual(before);
    expect(before.state?.status).toBe("CONFIRMED");
  });
});

describe("idempotency", () => {
  it("a repeated CreateShipment answers the same shipment and changes nothing, even with its first try's etag; other lines are IDEMPOTENCY_KEY_REUSED", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const rid = requestId();
    const first = await createShipment(id, [[1, 1], [2, 1]], { rid, etag: order.etag });
    expect(first.shipment!.id).toBe(shipmentIdFor(id, rid));
    const after = await snapshot(id);
    expect(after.etag).toBe(first.order!.etag);

    for (const args of [{ rid }, { rid, etag: order.etag }, { rid, etag: first.order!.etag }]) {
      const again = await createShipment(id, [[1, 1], [2, 1]], args);
      expect(parcelOf(again.shipment)).toEqual(parcelOf(first.shipment));
      expect(again.order!.etag).toBe(first.order!.etag);
    }
    // The same lines in another order are the same parcel.
    expect((await createShipment(id, [[2, 1], [1, 1]], { rid })).shipment!.id).toBe(first.shipment!.id);
    expect(await snapshot(id)).toEqual(after);

    // The same request_id with other lines.
    for (const lines of [[[1, 2]], [[1, 1]], [[1, 1], [2, 1], [3, 1]]] as Lines[]) {
      const err = await expectFailure(createShipment(id, lines, { rid }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
      expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(["request_id"]);
    }
    expect(await snapshot(id)).toEqual(after);

    // A new request with the stale etag is refused.
    await expectFailure(createShipment(id, [[1, 1]], { etag: order.etag }), Code.Aborted, "ETAG_MISMATCH");
    expect(await snapshot(id)).toEqual(after);

    // Once the parcel moved, a repeat answers it as it is now.
    const shipped = await moveShipment(id, first.shipment!.id, ShipmentStatus.SHIPPED, { info: UPS });
    const late = await createShipment(id, [[1, 1], [2, 1]], { rid, etag: order.etag });
    expect(parcelOf(late.shipment)).toEqual(parcel(id, rid, "SHIPPED", [[1, 1], [2, 1]], "UPS 1Z001"));
    expect(late.order!.etag).toBe(shipped.order!.etag);
    expect((await eventsOf(id, after.stored.version)).map((e) => e.type)).toEqual([SHIPMENT_CHANGED]);
  });

  it("request ids are per order: the same one on two orders makes two shipments", async () => {
    const [{ order: a }, { order: b }] = [await placeOrder([1]), await placeOrder([1])];
    const rid = requestId();
    const sa = (await createShipment(a.id, [[1, 1]], { rid })).shipment!;
    const sb = (await createShipment(b.id, [[1, 1]], { rid })).shipment!;
    expect(sa.id).not.toBe(sb.id);
    expect([sa.id, sb.id]).toEqual([shipmentIdFor(a.id, rid), shipmentIdFor(b.id, rid)]);
  });
});

describe("shipment transitions", () => {
  it("moves a parcel by its table; refusals change nothing, repeats change nothing", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const rid = requestId();
    const sid = (await createShipment(id, [[1, 2]], { rid })).shipment!.id;

    // No shipping info anywhere (request, parcel, order).
    let before = await snapshot(id);
    expect(before.state?.info).toBe("unset");
    await expectFailure(moveShipment(id, sid, ShipmentStatus.SHIPPED), Code.FailedPrecondition, "SHIPPING_INFO_REQUIRED");
    // Not from PENDING to DELIVERED.
    const err = await expectFailure(moveShipment(id, sid, ShipmentStatus.DELIVERED), Code.FailedPrecondition, "ILLEGAL_SHIPMENT_TRANSITION");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ orderId: id, shipmentId: sid, currentStatus: "PENDING", requestedStatus: "DELIVERED" });
    expect(preconditionViolationsOf(err).map((v) => v.subject)).toEqual([`orders/${id}/shipments/${sid}`]);
    // Unknown shipments, including another order's.
    const other = (await createShipment((await placeOrder([1])).order.id, [[1, 1]])).shipment!.id;
    for (const unknown of [shipmentIdFor(id, "never-made"), other]) {
      const nf = await expectFailure(moveShipment(id, unknown, ShipmentStatus.CANCELLED), Code.NotFound, "SHIPMENT_NOT_FOUND");
      expect(errorInfoOf(nf)?.metadata).toMatchObject({ orderId: id, shipmentId: unknown });
    }
    // PENDING without new info is a repeat.
    expect((await moveShipment(id, sid, ShipmentStatus.PENDING)).order!.etag).toBe(before.etag);
    expect(await snapshot(id)).toEqual(before);

    // PENDING with shipping info sets the parcel's tracking (not the order's); the same again changes nothing.
    const tracked = await moveShipment(id, sid, ShipmentStatus.PENDING, { info: GLS });
    expect(parcelOf(tracked.shipment)).toEqual(parcel(id, rid, "PENDING", [[1, 2]], "GLS GL003"));
    expect(stateOf(tracked.order)).toMatchObject({ status: "PROCESSING", fulfilment: "UNFULFILLED", info: "unset" });
    const [trackedEvent] = (await eventsOf(id, before.stored.version)).map(decodeShipmentChanged);
    expect(trackedEvent).toMatchObject({ version: before.stored.version + 1, parcels: [parcel(id, rid, "PENDING", [[1, 2]], "GLS GL003")], changes: [] });
    expect((await moveShipment(id, sid, ShipmentStatus.PENDING, { info: GLS })).order!.etag).toBe(tracked.order!.etag);
    // …and changes it.
    const retracked = await moveShipment(id, sid, ShipmentStatus.PENDING, { info: UPS });
    expect(parcelOf(retracked.shipment)?.info).toBe("UPS 1Z001");

    // SHIPPED with the tracking it has.
    const shipped = await moveShipment(id, sid, ShipmentStatus.SHIPPED);
    expect(parcelOf(shipped.shipment)).toEqual(parcel(id, rid, "SHIPPED", [[1, 2]], "UPS 1Z001"));
    expect(stateOf(shipped.order)).toMatchObject({ status: "PROCESSING", fulfilment: "PARTIALLY_SHIPPED", info: "UPS 1Z001" });
    before = await snapshot(id);

    // SHIPPED again (with or without the same info) succeeds and changes nothing.
    for (const info of [undefined, UPS]) {
      const again = await moveShipment(id, sid, ShipmentStatus.SHIPPED, { info });
      expect(again.order!.etag).toBe(shipped.order!.etag);
      expect(parcelOf(again.shipment)).toEqual(parcelOf(shipped.shipment));
    }
    // A SHIPPED parcel is neither cancelled nor put back.
    for (const to of [ShipmentStatus.CANCELLED, ShipmentStatus.PENDING]) {
      const e = await expectFailure(moveShipment(id, sid, to), Code.FailedPrecondition, "ILLEGAL_SHIPMENT_TRANSITION");
      expect(errorInfoOf(e)?.metadata).toMatchObject({ currentStatus: "SHIPPED", requestedStatus: ShipmentStatus[to] });
    }
    expect(await snapshot(id)).toEqual(before);

    // A CANCELLED parcel is final.
    const other2 = (await createShipment(id, [[2, 1]])).shipment!.id;
    await moveShipment(id, other2, ShipmentStatus.CANCELLED);
    for (const to of [ShipmentStatus.PENDING, ShipmentStatus.SHIPPED]) {
      await expectFailure(moveShipment(id, other2, to, { info: DHL }), Code.FailedPrecondition, "ILLEGAL_SHIPMENT_TRANSITION");
    }
  });

  it("CreateShipment is refused on a PENDING, SHIPPED, DELIVERED or CANCELLED order (ILLEGAL_TRANSITION)", async () => {
    const pending = await placePending();
    let err = await expectFailure(createShipment(pending.id, [[1, 1]]), Code.FailedPrecondition, "ILLEGAL_TRANSITION");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ orderId: pending.id, currentStatus: "PENDING" });
    expect((await h.orders.getOrder({ orderId: pending.id })).order!.shipments).toEqual([]);

    const { order } = await placeOrder([1]);
    await h.orders.updateShippingInfo({ orderId: order.id, shippingInfo: DHL });
    await setStatus(order.id, OrderStatus.PROCESSING);
    await setStatus(order.id, OrderStatus.SHIPPED);
    let before = await snapshot(order.id);
    err = await expectFailure(createShipment(order.id, [[1, 1]]), Code.FailedPrecondition, "ILLEGAL_TRANSITION");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ currentStatus: "SHIPPED" });
    expect(await snapshot(order.id)).toEqual(before);
    await setStatus(order.id, OrderStatus.DELIVERED);
    err = await expectFailure(createShipment(order.id, [[1, 1]]), Code.FailedPrecondition, "ILLEGAL_TRANSITION");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ currentStatus: "DELIVERED" });

    const { order: gone } = await placeOrder([1]);
    await h.orders.cancelOrder({ orderId: gone.id });
    before = await snapshot(gone.id);
    err = await expectFailure(createShipment(gone.id, [[1, 1]]), Code.FailedPrecondition, "ILLEGAL_TRANSITION");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ currentStatus: "CANCELLED" });
    expect(await snapshot(gone.id)).toEqual(before);

    await expectFailure(createShipment("77777777-7777-4777-8777-777777777777", [[1, 1]]), Code.NotFound, "ORDER_NOT_FOUND");
  });
});

describe("cancelling an order with parcels", () => {
  it("CancelOrder cancels its PENDING parcels with it", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const rid = requestId();
    await createShipment(id, [[1, 1]], { rid, info: UPS });
    const v = await versionOf(id);

    const cancelled = (await h.orders.cancelOrder({ orderId: id, reason: "changed my mind" })).order!;
    const expected = { status: "CANCELLED", fulfilment: "UNFULFILLED", info: "unset", parcels: [parcel(id, rid, "CANCELLED", [[1, 1]], "UPS 1Z001")] };
    expect(stateOf(cancelled)).toEqual(expected);
    expect(stateOf((await h.orders.getOrder({ orderId: id })).order)).toEqual(expected);
    const events = await eventsOf(id, v);
    expect(events.map((e) => [e.type, e.version])).toEqual([[CANCELLED_EVENT, v + 1]]);
    expect(stateOf(fromJson(OrderCancelledSchema, events[0]!.payload).order)).toEqual(expected);
    // Its request id still names it.
    expect(parcelOf((await createShipment(id, [[1, 1]], { rid })).shipment)?.status).toBe("CANCELLED");
  });

  it("once a parcel left, CancelOrder, UpdateOrderStatus CANCELLED and DeleteOrder are ORDER_PARTIALLY_SHIPPED and change nothing", async () => {
    const { order, customerId } = await placeOrder([2, 1]);
    const id = order.id;
    const sid = (await createShipment(id, [[1, 2]], { info: UPS })).shipment!.id;
    await createShipment(id, [[2, 1]]);
    await moveShipment(id, sid, ShipmentStatus.SHIPPED);
    const before = await snapshot(id);
    expect(before.state).toMatchObject({ status: "PROCESSING", fulfilment: "PARTIALLY_SHIPPED" });

    const attempts = [
      () => h.orders.cancelOrder({ orderId: id }),
      () => h.as(customer(customerId)).orders.cancelOrder({ orderId: id }),
      () => setStatus(id, OrderStatus.CANCELLED),
      () => h.orders.deleteOrder({ orderId: id }),
    ];
    for (const attempt of attempts) {
      const err = await expectFailure(attempt(), Code.FailedPrecondition, "ORDER_PARTIALLY_SHIPPED");
      expect(errorInfoOf(err)?.metadata).toMatchObject({ orderId: id, currentStatus: "PROCESSING" });
    }
    expect(await snapshot(id)).toEqual(before);
  });
});

describe("the one-shipment shortcut (UpdateOrderStatus SHIPPED / DELIVERED)", () => {
  it("an order without parcels: SHIPPED makes one SHIPPED parcel of every unit with the order's shipping info; DELIVERED delivers it", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    expect(stateOf((await setStatus(id, OrderStatus.PROCESSING)).order)).toEqual({ status: "PROCESSING", fulfilment: "UNFULFILLED", info: "unset", parcels: [] });
    let before = await snapshot(id);
    await expectFailure(setStatus(id, OrderStatus.SHIPPED), Code.FailedPrecondition, "SHIPPING_INFO_REQUIRED");
    expect(await snapshot(id)).toEqual(before);

    await h.orders.updateShippingInfo({ orderId: id, shippingInfo: DHL });
    const v = await versionOf(id);
    const shipped = (await setStatus(id, OrderStatus.SHIPPED, "handed over")).order!;
    expect(shipped.shipments).toHaveLength(1);
    // The shortcut's parcel: no request id, an id in the shortcut's own namespace (no client's request id can name it).
    const rid = shipped.shipments[0]!.requestId;
    expect(rid).toBe("");
    const shortcut = (status: keyof typeof ShipmentStatus) => ({ ...parcel(id, rid, status, [[1, 2], [2, 1]], "DHL JD002"), id: shortcutShipmentIdFor(id, v + 1) });
    const state = { status: "SHIPPED", fulfilment: "SHIPPED", info: "DHL JD002", parcels: [shortcut("SHIPPED")] };
    expect(stateOf(shipped)).toEqual(state);
    expect(shipped.history.map(changeOf).at(-1)).toEqual(["PROCESSING", "SHIPPED", "handed over", ADMIN_ACTOR]);
    expect(stateOf((await h.orders.getOrder({ orderId: id })).order)).toEqual(state);
    expect((await storedOf(id)).fulfilment).toBe("SHIPPED");
    let events = await eventsOf(id, v);
    expect(events.map((e) => [e.type, e.version])).toEqual([[STATUS_CHANGED, v + 1]]);
    expect(stateOf(fromJson(OrderStatusChangedSchema, events[0]!.payload).order)).toEqual(state);

    // A repeat changes nothing.
    before = await snapshot(id);
    expect((await setStatus(id, OrderStatus.SHIPPED)).order!.etag).toBe(before.etag);
    expect(await snapshot(id)).toEqual(before);

    const delivered = (await setStatus(id, OrderStatus.DELIVERED)).order!;
    const deliveredState = { status: "DELIVERED", fulfilment: "DELIVERED", info: "DHL JD002", parcels: [shortcut("DELIVERED")] };
    expect(stateOf(delivered)).toEqual(deliveredState);
    expect(stateOf((await h.orders.getOrder({ orderId: id })).order)).toEqual(deliveredState);
    events = await eventsOf(id, v + 1);
    expect(events.map((e) => [e.type, e.version])).toEqual([[STATUS_CHANGED, v + 2]]);
    expect(stateOf(fromJson(OrderStatusChangedSchema, events[0]!.payload).order)).toEqual(deliveredState);
    expect((await storedOf(id)).fulfilment).toBe("DELIVERED");
  });

  it("mixed: a PENDING parcel ships with its own tracking, the rest in a new parcel with the order's", async () => {
    const { order } = await placeOrder([2, 1]);
    const id = order.id;
    const rid = requestId();
    await createShipment(id, [[1, 1]], { rid, info: UPS });

    // The rest needs the order's shipping info.
    const before = await snapshot(id);
    await expectFailure(setStatus(id, OrderStatus.SHIPPED), Code.FailedPrecondition, "SHIPPING_INFO_REQUIRED");
    expect(await snapshot(id)).toEqual(before);

    await h.orders.updateShippingInfo({ orderId: id, shippingInfo: DHL });
    const v = await versionOf(id);
    const shipped = (await setStatus(id, OrderStatus.SHIPPED)).order!;
    expect(shipped.shipments).toHaveLength(2);
    const rest = shipped.shipments[1]!;
    expect([rest.requestId, rest.id]).toEqual(["", shortcutShipmentIdFor(id, v + 1)]);
    const restParcel = (status: keyof typeof ShipmentStatus) => ({ ...parcel(id, "", status, [[1, 1], [2, 1]], "DHL JD002"), id: rest.id });
    expect(stateOf(shipped)).toEqual({
      status: "SHIPPED",
      fulfilment: "SHIPPED",
      info: "DHL JD002",
      parcels: [parcel(id, rid, "SHIPPED", [[1, 1]], "UPS 1Z001"), restParcel("SHIPPED")],
    });

    // The shortcut's parcel moves like any other; DELIVERED delivers what is left.
    const d = await moveShipment(id, rest.id, ShipmentStatus.DELIVERED);
    expect(stateOf(d.order)).toMatchObject({ status: "SHIPPED", fulfilment: "PARTIALLY_DELIVERED" });
    const delivered = (await setStatus(id, OrderStatus.DELIVERED)).order!;
    expect(stateOf(delivered)).toEqual({
      status: "DELIVERED",
      fulfilment: "DELIVERED",
      info: "DHL JD002",
      parcels: [parcel(id, rid, "DELIVERED", [[1, 1]], "UPS 1Z001"), restParcel("DELIVERED")],
    });
  });
});

describe("REQUIRE_CAPTURE_BEFORE_FULFILMENT", () => {
  let strict: OrdersHarness;
  beforeAll(async () => {
    strict = await createOrdersHarness({ config: { requireCaptureBeforeFulfilment: true } });
  });
  afterAll(() => strict?.close());

  let evtSeq = 0;
  const report = (orderId: string, kind: PaymentEventKind, amountMinor: bigint) =>
    strict.orders.reportPayment({
      orderId,
      providerEventId: `evt_${process.pid}_${Date.now().toString(36)}_${evtSeq++}`,
      kind,
      amount: { currencyCode: "EUR", amountMinor },
      reason: "",
      etag: "",
    });

  it("on: the first parcel of a CONFIRMED order waits for the whole total to be captured", async () => {
    const { order } = await placeOrder([2, 1], strict); // total 3000 EUR
    const id = order.id;
    const rid = requestId();
    const ship = () => createShipment(id, [[1, 2]], { rid, harness: strict });

    let before = await snapshot(id, strict);
    let err = await expectFailure(ship(), Code.FailedPrecondition, "PAYMENT_NOT_CAPTURED");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ orderId: id, paymentStatus: "PENDING", requestedStatus: "PROCESSING" });
    expect(await snapshot(id, strict)).toEqual(before);

    await report(id, PaymentEventKind.AUTHORIZED, 3000n);
    before = await snapshot(id, strict);
    err = await expectFailure(ship(), Code.FailedPrecondition, "PAYMENT_NOT_CAPTURED");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ paymentStatus: "AUTHORIZED" });
    expect(await snapshot(id, strict)).toEqual(before);

    await report(id, PaymentEventKind.CAPTURED, 2999n);
    before = await snapshot(id, strict);
    err = await expectFailure(ship(), Code.FailedPrecondition, "PAYMENT_NOT_CAPTURED");
    expect(errorInfoOf(err)?.metadata).toMatchObject({ paymentStatus: "PARTIALLY_CAPTURED" });
    expect(await snapshot(id, strict)).toEqual(before);

    await report(id, PaymentEventKind.CAPTURED, 1n);
    const { order: after, shipment } = await ship();
    expect(parcelOf(shipment)).toEqual(parcel(id, rid, "PENDING", [[1, 2]]));
    expect(stateOf(after)).toMatchObject({ status: "PROCESSING", fulfilment: "UNFULFILLED" });
    expect(after!.history.map(changeOf).at(-1)).toEqual(["CONFIRMED", "PROCESSING", "fulfilment started", ADMIN_ACTOR]);
    // The next parcel of the PROCESSING order needs nothing more.
    expect(parcelOf((await createShipment(id, [[2, 1]], { harness: strict })).shipment)?.status).toBe("PENDING");
  });
});

describe("who may ship", () => {
  it("customers may not (even the order's own); staff and services may; the order's customer reads the parcels", async () => {
    const { order, customerId } = await placeOrder([2, 1]);
    const id = order.id;
    const own = h.as(customer(customerId)).orders;
    const before = await snapshot(id);
    await expectFailure(own.createShipment(shipRequest(id, [[1, 1]])), Code.PermissionDenied, "ROLE_NOT_PERMITTED");
    expect(await snapshot(id)).toEqual(before);

    const rid = requestId();
    const { shipment } = await h.as(STAFF).orders.createShipment(shipRequest(id, [[1, 2]], { rid, info: UPS }));
    await expectFailure(
      own.updateShipmentStatus({ orderId: id, shipmentId: shipment!.id, status: ShipmentStatus.CANCELLED, reason: "", etag: "" }),
      Code.PermissionDenied,
      "ROLE_NOT_PERMITTED",
    );
    const moved = await h
      .as(servicePrincipal("warehouse"))
      .orders.updateShipmentStatus({ orderId: id, shipmentId: shipment!.id, status: ShipmentStatus.SHIPPED, reason: "", etag: "" });
    expect(moved.order!.history.map(changeOf).at(-1)).toEqual(["CONFIRMED", "PROCESSING", "fulfilment started", "staff:test-staff"]);

    const seen = (await own.getOrder({ orderId: id })).order!;
    expect(stateOf(seen)).toEqual({ status: "PROCESSING", fulfilment: "PARTIALLY_SHIPPED", info: "UPS 1Z001", parcels: [parcel(id, rid, "SHIPPED", [[1, 2]], "UPS 1Z001")] });
    expect(seen.etag).toBe(moved.order!.etag);
    const listed = (await own.listOrders({ customerId })).orders;
    expect(listed.map(stateOf)).toEqual([stateOf(seen)]);

    const stranger = h.as(customer(await newCustomer(h))).orders;
    await expectFailure(stranger.getOrder({ orderId: id }), Code.NotFound, "ORDER_NOT_FOUND");
  });
});

describe.skipIf(!onRealPostgres)("concurrent shipments (real Postgres)", () => {
  it("30 concurrent parcels of 1 unit against a line of 10: exactly 10 are made", async () => {
    const { order } = await placeOrder([10]);
    const id = order.id;
    const v = await versionOf(id);
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, () => createShipment(id, [[1, 1]])));
    const made = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.shipment!.id] : []));
    expect(made).toHaveLength(10);
    expect(new Set(made).size).toBe(10);
    for (const o of outcomes) {
      if (o.status === "fulfilled") continue;
      const err = await rpcFailure(Promise.reject(o.reason as Error));
      expect({ code: Code[err.code], reason: errorInfoOf(err)?.reason }).toEqual({ code: "FailedPrecondition", reason: "SHIPMENT_EXCEEDS_ORDERED" });
      expect(preconditionViolationsOf(err).map((p) => p.description)).toEqual(["0 units left to ship"]);
    }

    const stored = await storedOf(id);
    expect(stored.shipments).toHaveLength(10);
    expect(stored.shipments.flatMap((s) => s.lines).reduce((n, l) => n + l.quantity, 0)).toBe(10);
    expect(new Set(stored.shipments.map((s) => s.id))).toEqual(new Set(made));
    expect({ version: stored.version, status: stored.status, fulfilment: stored.fulfilment }).toEqual({ version: v + 10, status: "PROCESSING", fulfilment: "UNFULFILLED" });
    const got = (await h.orders.getOrder({ orderId: id })).order!;
    expect(got.shipments.map((s) => s.id).sort()).toEqual([...made].sort());
    // Only the first one started fulfilment.
    expect(got.history.map(changeOf).slice(2)).toEqual([["CONFIRMED", "PROCESSING", "fulfilment started", ADMIN_ACTOR]]);
    const events = await eventsOf(id, v);
    expect(events.map((e) => [e.type, e.version])).toEqual(Array.from({ length: 10 }, (_, i) => [SHIPMENT_CHANGED, v + i + 1]));
    expect(events.map((e) => decodeShipmentChanged(e).changes.length)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("10 concurrent copies of one CreateShipment make one parcel and one event, and all answer it", async () => {
    const { order } = await placeOrder([10]);
    const id = order.id;
    const v = await versionOf(id);
    const rid = requestId();
    const answers = await Promise.all(Array.from({ length: 10 }, () => createShipment(id, [[1, 3]], { rid, etag: order.etag })));
    for (const a of answers) expect(parcelOf(a.shipment)).toEqual(parcel(id, rid, "PENDING", [[1, 3]]));
    expect(new Set(answers.map((a) => a.order!.etag)).size).toBe(1);
    const stored = await storedOf(id);
    expect(stored.shipments.map((s) => s.id)).toEqual([shipmentIdFor(id, rid)]);
    expect(stored.version).toBe(v + 1);
    expect((await eventsOf(id, v)).map((e) => [e.type, e.version])).toEqual([[SHIPMENT_CHANGED, v + 1]]);
  });
});
