/**
 * One watcher of a hub topic (watch-hub.ts): what the topic's reads offer it,
 * handed to `next()` one version at a time. It holds only the latest version
 * not yet taken — a consumer that falls behind skips to the newest, it never
 * queues — and never hands out the same version twice.
 */
import type { Order } from "../domain/order.js";
import type { OrderWatch } from "../domain/ports.js";

export interface WatchSlot extends OrderWatch {
  readonly owner: string;
  /** Whether a first read reached it (a failed read ends only watchers still waiting for their first). */
  readonly started: boolean;
  /** A read's result: the order, or undefined once it is gone. */
  offer(order: Order | undefined): void;
}

type Waiter = { resolve(o: Order | undefined): void; reject(err: unknown): void };

const NOTHING = Symbol("nothing");

export function createWatchSlot(owner: string, onClose: () => void): WatchSlot {
  let pending: Order | undefined | typeof NOTHING = NOTHING;
  let lastVersion = -1;
  let gone = false;
  let started = false;
  let error: { err: unknown } | undefined;
  let waiter: Waiter | undefined;
  let closed = false;

  const settle = () => {
    if (!waiter) return;
    const w = waiter;
    if (error) {
      waiter = undefined;
      w.reject(error.err);
    } else if (pending !== NOTHING) {
      waiter = undefined;
      const o = pending;
      pending = NOTHING;
      w.resolve(o);
    }
  };

  return {
    owner,
    get started() {
      return started;
    },
    offer(order) {
      if (closed || gone || error) return;
      started = true;
      if (order === undefined) {
        gone = true;
        pending = undefined;
      } else if (order.version > lastVersion) {
        lastVersion = order.version;
        pending = order;
      } else return;
      settle();
    },
    next() {
      if (closed) return Promise.reject(new Error("watch closed"));
      return new Promise<Order | undefined>((resolve, reject) => {
        waiter = { resolve, reject };
        settle();
      });
    },
    end(err) {
      if (error || closed) return;
      error = { err };
      settle();
    },
    close() {
      if (closed) return;
      closed = true;
      onClose();
    },
  };
}
