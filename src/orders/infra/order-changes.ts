/**
 * In-process change signal for WatchOrder: the repository fires it after a
 * commit; a watcher waits for the next one or a poll interval, whichever
 * comes first (the poll sees changes made by other processes).
 */
import { EventEmitter } from "node:events";
import type { OrderChanges } from "../domain/ports.js";

export function createOrderChanges(): OrderChanges {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    notify: (orderId) => void emitter.emit(orderId),
    next(orderId, timeoutMs, signal) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          emitter.off(orderId, done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        emitter.once(orderId, done);
        signal.addEventListener("abort", done, { once: true });
        if (signal.aborted) done();
      });
    },
  };
}
