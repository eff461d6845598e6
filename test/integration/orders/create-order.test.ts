import { Code } from "@connectrpc/connect";
import { customer } from "../../support/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "../../../gen/orders/v1/order_service_pb.js";
import { createOrdersHarness, newCustomer, newProduct, requestId, stockOf, type OrdersHarness } from "./harness.js";
import { preconditionViolationsOf } from "../../support/rpc-errors.js";
import { expectFailure } from "./rpc-assert.js";

let h: OrdersHarness;
beforeAll(async () => {
  h = await createOrdersHarness();
});
afterAll(() => h.close());

const address = {
  recipientName: "Ada Lovelace",
  line1: "1 Analytical Way",
  city: "London",
  countryCode: "GB",
};

describe("CreateOrder", () => {
  it("prices lines from inventory, totals in minor units, sells the stock and records who did it", async () => {
    const [p1, p2, customerId] = [await newProduct(h, 10, 1999n), await newProduct(h, 5, 250n), await newCustomer(h)];
    // The customer places it themself; their x-actor is ignored: history names the verified principal.
    const { order } = await h.as(customer(customerId)).orders.createOrder(
      {
        customerId,
        requestId: requestId(),
        shippingAddress: address,
        items: [
          { productId: p1, quantity: 2, variantId: "red" },
          { productId: p2, quantity: 1 },
          { productId: p1, quantity: 3, variantId: "blue" },
        ],
      },
      { headers: { "x-actor": "alice" } },
    );
    expect(order!.status).toBe(OrderStatus.CONFIRMED);
    expect(order!.lines.map((l) => [l.variantId, l.quantity, l.unitPrice?.amountMinor, l.lineTotal?.amountMinor])).toEqual([
      ["red", 2, 1999n, 3998n],
      ["", 1, 250n, 250n],
      ["blue", 3, 1999n, 5997n],
    ]);
    expect(order!.total).toMatchObject({ currencyCode: "EUR", amountMinor: 10245n });
    expect(order!.shippingAddress).toMatchObject(address);
    expect(order!.history.map((c) => [c.fromStatus, c.toStatus, c.actor])).toEqual([
      [OrderStatus.UNSPECIFIED, OrderStatus.PENDING, `customer:${customerId}`],
      [OrderStatus.PENDING, OrderStatus.CONFIRMED, `customer:${customerId}`],
    ]);
    expect(order!.history[1]?.reason).toBe("stock sold");
    expect(await stockOf(h, p1)).toEqual({ onHand: 5, reserved: 0, available: 5 });
    expect(await stockOf(h, p2)).toEqual({ onHand: 4, reserved: 0, available: 4 });
    const again = await h.orders.getOrder({ orderId: order!.id });
    expect(again.order).toEqual(order);
  });

  it("returns the original order for a repeated request_id and takes the stock once", async () => {
    const [p, customerId, rid] = [await newProduct(h, 10), await newCustomer(h), requestId()];
    const req = { customerId, requestId: rid, items: [{ productId: p, quantity: 3 }] };
    const first = (await h.orders.createOrder(req)).order!;
    const second = (await h.orders.createOrder(req)).order!;
    expect(second.id).toBe(first.id);
    expect(second.etag).toBe(first.etag);
    expect(await stockOf(h, p)).toMatchObject({ onHand: 7, reserved: 0 });
    const changed = { ...req, items: [{ productId: p, quantity: 4 }] };
    await expectFailure(h.orders.createOrder(changed), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
    await expectFailure(h.orders.createOrder({ ...req, shippingAddress: address }), Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED");
    const other = await newCustomer(h);
    const theirs = (await h.orders.createOrder({ ...req, customerId: other })).order!;
    expect(theirs.id).not.toBe(first.id);
  });

  it("refuses unknown and suspended customers", async () => {
    const p = await newProduct(h, 10);
    const items = [{ productId: p, quantity: 1 }];
    const unknown = "99999999-9999-4999-8999-999999999999";
    await expectFailure(h.orders.createOrder({ customerId: unknown, requestId: requestId(), items }), Code.NotFound, "CUSTOMER_NOT_FOUND");
    const suspended = await newCustomer(h, false);
    const err = await expectFailure(
      h.orders.createOrder({ customerId: suspended, requestId: requestId(), items }),
      Code.FailedPrecondition,
      "CUSTOMER_INACTIVE",
    );
    expect(preconditionViolationsOf(err)[0]?.subject).toBe(`customers/${suspended}`);
    expect(await stockOf(h, p)).toMatchObject({ onHand: 10, reserved: 0 });
  });

  it("refuses unknown products and short stock with a violation per short product, holding nothing", async () => {
    const [a, b, c, customerId] = [await newProduct(h, 2), await newProduct(h, 1), await newProduct(h, 50), await newCustomer(h)];
    const unknown = "88888888-8888-4888-8888-888888888888";
    await expectFailure(
      h.orders.createOrder({ customerId, requestId: requestId(), items: [{ productId: unknown, quantity: 1 }] }),
      Code.NotFound,
      "PRODUCT_NOT_FOUND",
    );
    const err = await expectFailure(
      h.orders.createOrder({
        customerId,
        requestId: requestId(),
        items: [
          { productId: a, quantity: 2 },
          { productId: a, quantity: 1 },
          { productId: b, quantity: 2 },
          { productId: c, quantity: 5 },
        ],
      }),
      Code.FailedPrecondition,
      "INSUFFICIENT_STOCK",
    );
    expect(preconditionViolationsOf(err).map((v) => v.subject).sort()).toEqual([`products/${a}`, `products/${b}`].sort());
    expect(await stockOf(h, c)).toEqual({ onHand: 50, reserved: 0, available: 50 });
    const none = await h.orders.listOrders({ customerId });
    expect(none.orders).toEqual([]);
  });

  it("refuses an order in mixed currencies and gives the held stock back", async () => {
    const [eur, usd, customerId] = [await newProduct(h, 5, 100n, "EUR"), await newProduct(h, 5, 100n, "USD"), await newCustomer(h)];
    const err = await expectFailure(
      h.orders.createOrder({
        customerId,
        requestId: requestId(),
        items: [
          { productId: eur, quantity: 1 },
          { productId: usd, quantity: 1 },
        ],
      }),
      Code.FailedPrecondition,
      "MIXED_CURRENCIES",
    );
    expect(preconditionViolationsOf(err)[0]?.subject).toBe(`products/${usd}`);
    expect(await stockOf(h, eur)).toEqual({ onHand: 5, reserved: 0, available: 5 });
    expect(await stockOf(h, usd)).toEqual({ onHand: 5, reserved: 0, available: 5 });
  });

  it("validates the request shape before anything else", async () => {
    const customerId = await newCustomer(h);
    await expectFailure(h.orders.createOrder({ customerId, requestId: requestId(), items: [] }), Code.InvalidArgument, "INVALID_REQUEST");
    await expectFailure(h.orders.createOrder({ customerId, requestId: "", items: [] }), Code.InvalidArgument, "INVALID_REQUEST");
  });
});
