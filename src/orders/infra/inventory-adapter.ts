/** InventoryPort over the generated InventoryService client. */
import type { Client } from "@connectrpc/connect";
import { InventoryService, ReservationStatus } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { callOptions, fromRemoteError, type DeadlinePolicy } from "../../platform/rpc/remote.js";
import type { InventoryPort, InventoryReservationStatus } from "../domain/ports.js";

const STATUS: Partial<Record<ReservationStatus, InventoryReservationStatus>> = {
  [ReservationStatus.PENDING]: "PENDING",
  [ReservationStatus.COMMITTED]: "COMMITTED",
  [ReservationStatus.RELEASED]: "RELEASED",
  [ReservationStatus.EXPIRED]: "EXPIRED",
};

export function createInventoryAdapter(client: Client<typeof InventoryService>, policy: DeadlinePolicy): InventoryPort {
  const remote = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw fromRemoteError(err, "inventory");
    }
  };
  return {
    async reserve(cx, reservationId, lines) {
      const res = await remote(() =>
        client.reserveStock({ reservationId, lines: lines.map((l) => ({ ...l })) }, callOptions(cx, policy)),
      );
      const r = res.reservation;
      const status = r ? STATUS[r.status] : undefined;
      if (!r || !status) throw new Error(`inventory answered ReserveStock ${reservationId} without a usable reservation`);
      return {
        id: r.id,
        status,
        lines: r.lines.map((l) => ({
          productId: l.productId.toLowerCase(),
          quantity: l.quantity,
          unitPrice: { currency: l.unitPrice?.currencyCode ?? "", amountMinor: l.unitPrice?.amountMinor ?? 0n },
        })),
      };
    },
    async commit(cx, reservationId) {
      await remote(() => client.commitReservation({ reservationId }, callOptions(cx, policy)));
    },
    async release(cx, reservationId, reason) {
      await remote(() => client.releaseReservation({ reservationId, reason }, callOptions(cx, policy)));
    },
    async returnStock(cx, reservationId, returnId, lines, reason) {
      await remote(() =>
        client.returnStock({ reservationId, returnId, lines: lines.map((l) => ({ ...l })), reason }, callOptions(cx, policy)),
      );
    },
  };
}
