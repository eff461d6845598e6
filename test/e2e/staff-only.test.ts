/**
 * Staff-only fields (access.v1.staff_only: an order's staff notes, tags and
 * metadata) over the real servers, gRPC and Connect JSON (the fast path for
 * unary calls, connect-node for streams): a customer never receives them —
 * not in GetOrder (a cache hit too), ListOrders, a live or resumed
 * WatchOrder, the answer of their own CancelOrder, nor as timeline entries —
 * while staff, asking right after, see them whole (the cached answer was not
 * cleared in place). The customer's own note stays theirs to see.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Order } from "../../gen/orders/v1/order_service_pb.js";
import { newCustomer, newProduct, requestId } from "../integration/orders/harness.js";
import { startWatch, untilSeen } from "../integration/orders/watch-support.js";
import { customer, permittedPrincipal, STAFF } from "../support/auth.js";
import { clientsOver, WIRES } from "../support/clients.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const hidden = (o: Order | undefined) => ({ notes: o?.staffNotes.length, tags: o?.tags, metadata: o?.metadata });
const NOTHING = { notes: 0, tags: [], metadata: {} };
const EVERYTHING = { notes: 1, tags: ["fraud-review"], metadata: { erp_id: "SO-4711" } };

describe("staff-only fields", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  it.each(WIRES)("over %s: never reach a customer, reach staff whole", async (wire) => {
    const setup = clientsOver(stack, wire, permittedPrincipal);
    const [productId, customerId] = [await newProduct(setup, 10), await newCustomer(setup)];
    const mine = clientsOver(stack, wire, customer(customerId)).orders;
    const staff = clientsOver(stack, wire, STAFF).orders;
    const created = (
      await mine.createOrder({ customerId, requestId: requestId(), items: [{ productId, quantity: 1 }], customerNote: "leave at the back door" })
    ).order!;
    const orderId = created.id;
    await staff.addOrderNote({ orderId, requestId: "n-1", text: "asked for a refund twice before" });
    await staff.updateOrderTags({ orderId, addTags: ["fraud-review"] });
    await staff.updateOrderMetadata({ orderId, set: { erp_id: "SO-4711" } });

    // Twice: the second is a read-cache hit, whose frozen answer must not be what the customer gets.
    for (let i = 0; i < 2; i++) {
      const own = (await mine.getOrder({ orderId })).order;
      expect(hidden(own)).toEqual(NOTHING);
      expect(own?.customerNote).toBe("leave at the back door");
      expect(hidden((await staff.getOrder({ orderId })).order)).toEqual(EVERYTHING);
    }
    const page = await mine.listOrders({ customerId });
    expect(page.orders.map(hidden)).toEqual([NOTHING]);
    expect(hidden((await staff.listOrders({ customerId })).orders[0])).toEqual(EVERYTHING);

    // A live watch (the order now) and a resumed one (the orders its events recorded).
    const live = startWatch(mine, orderId);
    const recorded: Order[] = [];
    const resumed = (async () => {
      const ac = new AbortController();
      for await (const m of mine.watchOrder({ orderId, afterVersion: 1 }, { signal: ac.signal })) {
        if (m.order) recorded.push(m.order);
        if (recorded.length >= 4) ac.abort();
      }
    })().catch(() => {}); // ends aborted once it has seen enough
    await untilSeen([live], 1);
    expect(hidden(live.seen[0])).toEqual(NOTHING);
    live.cancel();
    await resumed;
    // Versions 2..5: confirmed, noted, tagged, given metadata — the last three as their events recorded the order.
    expect(recorded.length).toBeGreaterThanOrEqual(4);
    expect(recorded.map(hidden)).toEqual(recorded.map(() => NOTHING));

    const timeline = await mine.listOrderTimeline({ orderId });
    expect(timeline.entries.filter((e) => e.staffOnly)).toEqual([]);
    expect((await staff.listOrderTimeline({ orderId })).entries.filter((e) => e.staffOnly)).toHaveLength(3);

    const cancelled = (await mine.cancelOrder({ orderId, reason: "changed my mind" })).order;
    expect(hidden(cancelled)).toEqual(NOTHING);
    expect(hidden((await staff.getOrder({ orderId })).order)).toEqual(EVERYTHING);
  });
});
