/**
 * Property: over random sequences of create / status change / ship / cancel
 * / delete, for every product available + held + sold = initial stock (sold
 * = units of orders that are not cancelled, deleted ones included), nothing
 * stays held, and every order's total is the sum of its lines.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { ORDER_STATUSES, canTransition, type OrderStatus as Status } from "../../../src/orders/domain/order-status.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";

const INITIAL = 12;
type Op =
  | { k: "create"; lines: { p: number; q: number }[] }
  | { k: "status"; i: number; to: Status }
  | { k: "ship" | "cancel" | "delete"; i: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("create" as const), lines: fc.array(fc.record({ p: fc.nat(2), q: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("status" as const), i: fc.nat(), to: fc.constantFrom(...ORDER_STATUSES) }) },
  fc.record({ k: fc.constantFrom("ship" as const, "cancel" as const, "delete" as const), i: fc.nat() }),
);

interface ModelOrder { id: string; qty: number[]; status: Status; deleted: boolean; info: boolean }

/** Whether the model expects the move to succeed (a repeat of the current status always does). */
const allowed = (o: ModelOrder, to: Status) =>
  o.status === to || (canTransition(o.status, to) && (to !== "SHIPPED" || o.info));

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

const code = (e: unknown) => Code[ConnectError.from(e).code];

async function apply(op: Op, m: { orders: ModelOrder[]; products: string[]; customerId: string }) {
  if (op.k === "create") {
    const items = op.lines.map((l) => ({ productId: m.products[l.p], quantity: l.q }));
    try {
      const { order } = await h.orders.createOrder({ customerId: m.customerId, requestId: requestId(), items });
      const qty = [0, 1, 2].map((p) => op.lines.filter((l) => l.p === p).reduce((s, l) => s + l.q, 0));
      m.orders.push({ id: order!.id, qty, status: "CONFIRMED", deleted: false, info: false });
    } catch (e) {
      expect(code(e)).toBe("FailedPrecondition");
    }
    return;
  }
  const o = m.orders[op.i % Math.max(1, m.orders.length)];
  if (!o) return;
  const to: Status = op.k === "status" ? op.to : op.k === "ship" ? "SHIPPED" : "CANCELLED";
  try {
    if (op.k === "delete") await h.orders.deleteOrder({ orderId: o.id });
    else {
      if (op.k === "ship") {
        await h.orders.updateShippingInfo({ orderId: o.id, shippingInfo: { carrier: "C", trackingNumber: "T" } });
        o.info = true;
      }
      const { order } = await h.orders.updateOrderStatus({ orderId: o.id, status: OrderStatus[to] });
      expect(allowed(o, to), `${o.status} → ${to}`).toBe(true);
      o.status = OrderStatus[order!.status] as Status;
      return;
    }
    expect(o.deleted).toBe(false);
    o.deleted = true;
    if (o.status === "CONFIRMED" || o.status === "PROCESSING") o.status = "CANCELLED";
  } catch (e) {
    if (o.deleted) expect(code(e)).toBe("NotFound");
    else expect([code(e), allowed(o, to)]).toEqual(["FailedPrecondition", false]);
  }
}

async function checkInvariants(m: { orders: ModelOrder[]; products: string[] }) {
  for (const [p, productId] of m.products.entries()) {
    const s = await stockOf(h, productId);
    const sold = m.orders.filter((o) => o.status !== "CANCELLED").reduce((n, o) => n + o.qty[p], 0);
    expect({ available: s.available, held: s.reserved, sold }).toEqual({ available: INITIAL - sold, held: 0, sold });
  }
  for (const o of m.orders.filter((x) => !x.deleted)) {
    const order = (await h.orders.getOrder({ orderId: o.id })).order!;
    expect(OrderStatus[order.status]).toBe(o.status);
    const lines = order.lines.map((l) => l.unitPrice!.amountMinor * BigInt(l.quantity));
    expect(order.lines.map((l) => l.lineTotal!.amountMinor)).toEqual(lines);
    expect(order.total!.amountMinor).toBe(lines.reduce((a, b) => a + b, 0n));
  }
}

describe("stock conservation", () => {
  it("holds over random create / transition / cancel / delete sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        const products = [await newProduct(h, INITIAL, 199n), await newProduct(h, INITIAL, 1n), await newProduct(h, INITIAL, 123_456_789_012n)];
        const model = { orders: [] as ModelOrder[], products, customerId: await newCustomer(h) };
        for (const op of ops) {
          await apply(op, model);
          await checkInvariants(model);
        }
      }),
      {
        numRuns: 15,
        examples: [
          [
            [
              { k: "create", lines: [{ p: 0, q: 5 }, { p: 1, q: 2 }] },
              { k: "status", i: 0, to: "PROCESSING" },
              { k: "status", i: 0, to: "SHIPPED" },
              { k: "ship", i: 0 },
              { k: "status", i: 0, to: "DELIVERED" },
              { k: "create", lines: [{ p: 0, q: 7 }] },
              { k: "create", lines: [{ p: 0, q: 1 }] },
              { k: "delete", i: 1 },
              { k: "create", lines: [{ p: 0, q: 7 }, { p: 2, q: 12 }] },
              { k: "cancel", i: 2 },
              { k: "delete", i: 0 },
              { k: "cancel", i: 2 },
            ],
          ],
        ],
      },
    );
  }, 120_000);
});
