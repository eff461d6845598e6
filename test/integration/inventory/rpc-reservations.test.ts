/** The reservation RPCs through the real Connect router: all-or-nothing, idempotency, lifecycle, expiry. */
import { randomUUID } from "node:crypto";
import { durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReservationStatus } from "../../../gen/inventory/v1/inventory_service_pb.js";
import type { InventoryModule } from "../../../src/inventory/module.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";
import { createInventoryRpc, wireError, type InventoryClient } from "./rpc-client.js";

let database: TestDatabase;
let closeRpc: (() => Promise<void>) | undefined;
let client: InventoryClient;
let module: InventoryModule;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ client, module, close: closeRpc } = await createInventoryRpc(database, 900));
});
afterAll(async () => {
  await closeRpc?.();
  await database?.dispose();
});

async function product(stock: bigint, priceMinor = 500n): Promise<string> {
  const sku = `R-${randomUUID()}`;
  const res = await client.createProduct({ sku, name: "x", unitPrice: { currencyCode: "USD", amountMinor: priceMinor }, initialStock: stock });
  return res.product!.id;
}
const stock = async (productId: string) => {
  const { product: p } = await client.getProduct({ productId });
  return { onHand: p!.stockOnHand, reserved: p!.reserved, available: p!.available };
};
const rid = () => `order:${randomUUID()}`;

describe("ReserveStock over the wire", () => {
  it("holds stock, returns prices, and sets the expire time from the default TTL", async () => {
    const a = await product(5n, 1234n);
    const before = Date.now();
    const { reservation } = await client.reserveStock({ reservationId: rid(), lines: [{ productId: a, quantity: 2 }] });
    expect(reservation?.status).toBe(ReservationStatus.PENDING);
    expect(reservation?.lines).toEqual([expect.objectContaining({ productId: a, quantity: 2, unitPrice: expect.objectContaining({ amountMinor: 1234n }) })]);
    const ttl = timestampMs(reservation!.expireTime!) - before;
    expect(ttl).toBeGreaterThanOrEqual(900_000);
    expect(ttl).toBeLessThan(905_000);
    expect(await stock(a)).toEqual({ onHand: 5n, reserved: 2n, available: 3n });
  });

  it("a shortage fails FAILED_PRECONDITION INSUFFICIENT_STOCK with a violation per short product, holding nothing", async () => {
    const ok = await product(5n);
    const s1 = await product(1n);
    const s2 = await product(2n);
    const e = await wireError(client.reserveStock({
      reservationId: rid(),
      lines: [{ productId: ok, quantity: 1 }, { productId: s1, quantity: 2 }, { productId: s2, quantity: 1 }, { productId: s2, quantity: 2 }],
    }));
    expect([e.code, e.reason]).toEqual([Code.FailedPrecondition, "INSUFFICIENT_STOCK"]);
    expect(e.violations.sort((x, y) => x.subject.localeCompare(y.subject))).toEqual(
      [
        { type: "INSUFFICIENT_STOCK", subject: `products/${s1}`, description: "requested 2, available 1" },
        { type: "INSUFFICIENT_STOCK", subject: `products/${s2}`, description: "requested 3, available 2" },
      ].sort((x, y) => x.subject.localeCompare(y.subject)),
    );
    expect((await stock(ok)).reserved).toBe(0n);
  });

  it("unknown products, reused ids and malformed requests fail with their reasons and fields", async () => {
    const p = await product(5n);
    const ghost = randomUUID();
    const nf = await wireError(client.reserveStock({ reservationId: rid(), lines: [{ productId: ghost, quantity: 1 }] }));
    expect([nf.code, nf.reason, nf.metadata.productId]).toEqual([Code.NotFound, "PRODUCT_NOT_FOUND", ghost]);
    const id = rid();
    const first = await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 1 }] });
    expect(await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 1 }] })).toEqual(first);
    const reused = await wireError(client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 2 }] }));
    expect([reused.code, reused.reason, reused.fields]).toEqual([Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED", ["lines"]]);
    const bad = await wireError(client.reserveStock({ reservationId: "has space", lines: [{ productId: "x", quantity: 0 }] }));
    expect(bad.fields.sort()).toEqual(["lines[0].product_id", "lines[0].quantity", "reservation_id"]);
    expect((await wireError(client.reserveStock({ reservationId: rid(), lines: [] }))).fields).toEqual(["lines"]);
    const ttl = await wireError(client.reserveStock({ reservationId: rid(), lines: [{ productId: p, quantity: 1 }], ttl: durationFromMs(500) }));
    expect(ttl.fields).toEqual(["ttl"]);
    expect(await stock(p)).toMatchObject({ reserved: 1n });
  });
});

describe("the reservation lifecycle over the wire", () => {
  it("commit sells, release of the committed sale restocks, and both are idempotent", async () => {
    const p = await product(10n);
    const id = rid();
    await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 4 }] });
    for (let i = 0; i < 2; i++) {
      expect((await client.commitReservation({ reservationId: id })).reservation?.status).toBe(ReservationStatus.COMMITTED);
      expect(await stock(p)).toEqual({ onHand: 6n, reserved: 0n, available: 6n });
    }
    for (let i = 0; i < 2; i++) {
      expect((await client.releaseReservation({ reservationId: id, reason: "cancelled" })).reservation?.status).toBe(ReservationStatus.RELEASED);
      expect(await stock(p)).toEqual({ onHand: 10n, reserved: 0n, available: 10n });
    }
    const e = await wireError(client.commitReservation({ reservationId: id }));
    expect([e.code, e.reason, e.metadata.reservationId]).toEqual([Code.FailedPrecondition, "RESERVATION_RELEASED", id]);
    expect((await client.getReservation({ reservationId: id })).reservation?.status).toBe(ReservationStatus.RELEASED);
    const nf = await wireError(client.getReservation({ reservationId: "missing" }));
    expect([nf.code, nf.reason]).toEqual([Code.NotFound, "RESERVATION_NOT_FOUND"]);
  });

  it("an expired reservation cannot be committed and its stock is back; the module sweeps on demand", async () => {
    const p = await product(3n);
    const id = rid();
    await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 3 }], ttl: durationFromMs(1000) });
    expect((await stock(p)).available).toBe(0n);
    expect(await module.sweepExpired(new Date(Date.now() + 5000))).toBeGreaterThanOrEqual(1);
    expect(await stock(p)).toEqual({ onHand: 3n, reserved: 0n, available: 3n });
    const e = await wireError(client.commitReservation({ reservationId: id }));
    expect([e.code, e.reason]).toEqual([Code.FailedPrecondition, "RESERVATION_EXPIRED"]);
    expect((await client.releaseReservation({ reservationId: id })).reservation?.status).toBe(ReservationStatus.EXPIRED);
    expect(await stock(p)).toEqual({ onHand: 3n, reserved: 0n, available: 3n });
  });

  it("start() runs the sweeper and stop() ends it", async () => {
    const p = await product(2n);
    const id = rid();
    await client.reserveStock({ reservationId: id, lines: [{ productId: p, quantity: 2 }], ttl: durationFromMs(1000) });
    await new Promise((r) => setTimeout(r, 1100));
    await module.stop(); // the app started it; start it again, now with a reservation due
    module.start();
    await module.stop(); // waits for the sweep started by start()
    expect((await client.getReservation({ reservationId: id })).reservation?.status).toBe(ReservationStatus.EXPIRED);
    expect(await stock(p)).toEqual({ onHand: 2n, reserved: 0n, available: 2n });
  });
});
