/**
 * Helpers of the WatchOrder tests: a watch running in the background that
 * records what it got and how it ended, a repository wrapper counting reads
 * per order, and the hub's counts.
 */
import { ConnectError, type Client } from "@connectrpc/connect";
import { expect, vi } from "vitest";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import type { Order, OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import type { OrderRepository } from "../../../src/orders/domain/ports.js";
import type { OrdersModule } from "../../../src/orders/module.js";

export interface Watching {
  readonly seen: Order[];
  /** Undefined when the stream ended OK, else its error. */
  readonly ended: Promise<ConnectError | undefined>;
  cancel(): void;
}

export function startWatch(orders: Client<typeof OrderService>, orderId: string, timeoutMs?: number): Watching {
  const ac = new AbortController();
  const seen: Order[] = [];
  const ended = (async () => {
    try {
      for await (const res of orders.watchOrder({ orderId }, { signal: ac.signal, timeoutMs })) seen.push(res.order!);
      return undefined;
    } catch (err) {
      return ConnectError.from(err);
    }
  })();
  return { seen, ended, cancel: () => ac.abort() };
}

/** Waits until every watch got at least `n` messages. */
export async function untilSeen(watches: readonly Watching[], n: number, timeout = 15_000): Promise<void> {
  await vi.waitFor(() => expect(watches.filter((w) => w.seen.length < n).length).toBe(0), { timeout, interval: 20 });
}

/** Waits until the hub holds no watch at all. */
export async function untilNoWatches(module: OrdersModule, timeout = 15_000): Promise<void> {
  await vi.waitFor(() => expect(module.watches.stats()).toMatchObject({ watches: 0, orders: 0 }), { timeout, interval: 20 });
}

/** The retry delay the error's google.rpc.RetryInfo gives, in ms (undefined: none). */
export function retryDelayMsOf(err: ConnectError): number | undefined {
  const info = err.findDetails(RetryInfoSchema)[0];
  if (!info?.retryDelay) return undefined;
  return Number(info.retryDelay.seconds) * 1000 + Math.floor(info.retryDelay.nanos / 1e6);
}

/** `findById` calls per order id through the wrapped repository. */
export interface ReadCounter {
  readonly wrap: (repo: OrderRepository) => OrderRepository;
  of(orderId: string): number;
  total(): number;
}

export function createReadCounter(): ReadCounter {
  const counts = new Map<string, number>();
  let total = 0;
  return {
    wrap: (repo) => ({
      ...repo,
      findById(id, opts) {
        counts.set(id, (counts.get(id) ?? 0) + 1);
        total++;
        return repo.findById(id, opts);
      },
    }),
    of: (id) => counts.get(id) ?? 0,
    total: () => total,
  };
}
