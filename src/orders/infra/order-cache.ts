/**
 * A bounded in-process LRU of orders by id, in front of the repository's
 * `findById` for GetOrder. It never serves a stale order to a caller that
 * could know better:
 *
 * - Local commits evict synchronously (the repository's `onCommit`), before
 *   the writer's RPC answers, so a client reading after its own write on
 *   this instance sees it.
 * - Other processes' commits evict on their `orders_changed` notification
 *   (migrations/0001_order_change_notify.sql), at notification latency.
 * - A read takes a ticket before going to the database and stores its result
 *   only if the id was not invalidated (nor the cache reset) since, so a read
 *   that raced a change cannot put the old order back after the eviction.
 * - Until the listener is up, and after it is lost, nothing is cached
 *   (`reset(false)`); on (re)connect everything is dropped (`reset(true)`):
 *   notifications may have been missed meanwhile.
 *
 * Only live orders are cached (no negative entries): a deleted order is
 * evicted by its delete and then misses, so GetOrder keeps answering
 * NOT_FOUND. A PENDING order is never cached: its confirm does not notify
 * other processes (migrations/0003_pending_confirm_quiet.sql), so a cached
 * PENDING could outlive the sale there. Cached orders are shared between
 * callers and never mutated.
 */
import type { Order } from "../domain/order.js";
import type { OrderRepository } from "../domain/ports.js";

export interface OrderCache {
  /** The cached order (now most recently used), or a database read through `load`. */
  read(id: string, load: () => Promise<Order | undefined>): Promise<Order | undefined>;
  /** The order changed (or may have): drop it and refuse results of reads begun before now. */
  invalidate(id: string): void;
  /** Drops everything and refuses results of reads begun before now; `enabled` false stops caching. */
  reset(enabled: boolean): void;
  readonly size: number;
  readonly enabled: boolean;
  /** Reads answered from memory, and reads that went to the database while caching was on (for metrics). */
  readonly hits: number;
  readonly misses: number;
}

interface InFlight {
  /** Reads of this id still running. */
  count: number;
  /** Clock value of the latest invalidation of this id (0: none while reads ran). */
  invalidatedAt: number;
}

/**
 * Cache key of an id: Postgres reads and notifies uuids in lower case, while
 * a request may spell one in upper case. Other spellings Postgres accepts
 * (no hyphens, braces) get no key and bypass the cache.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const keyOf = (id: string): string | undefined => {
  if (UUID.test(id)) return id;
  const lower = id.toLowerCase();
  return UUID.test(lower) ? lower : undefined;
};

export function createOrderCache(maxEntries: number): OrderCache {
  const entries = new Map<string, Order>();
  const inFlight = new Map<string, InFlight>();
  let clock = 0;
  let resetAt = 0;
  let enabled = false;

  function reset(on: boolean): void {
    clock++;
    resetAt = clock;
    enabled = on;
    entries.clear();
  }

  const store = (id: string, order: Order) => {
    entries.delete(id);
    entries.set(id, order);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  };

  let hits = 0;
  let misses = 0;
  return {
    async read(rawId, load) {
      const id = keyOf(rawId);
      if (id === undefined) return load();
      const hit = entries.get(id);
      if (hit) {
        hits++;
        // Map order is insertion order: re-inserting makes it the most recent.
        entries.delete(id);
        entries.set(id, hit);
        return hit;
      }
      if (!enabled || maxEntries <= 0) return load();
      misses++;
      const startedAt = clock;
      let f = inFlight.get(id);
      if (!f) inFlight.set(id, (f = { count: 0, invalidatedAt: 0 }));
      f.count++;
      try {
        const order = await load();
        if (order && !order.deleted && order.status !== "PENDING" && enabled && resetAt <= startedAt && f.invalidatedAt <= startedAt) store(id, order);
        return order;
      } finally {
        if (--f.count === 0) inFlight.delete(id);
      }
    },
    invalidate(rawId) {
      const id = keyOf(rawId);
      if (id === undefined) return reset(enabled); // cannot tell which entry: drop them all
      clock++;
      entries.delete(id);
      const f = inFlight.get(id);
      if (f) f.invalidatedAt = clock;
    },
    reset,
    get size() {
      return entries.size;
    },
    get enabled() {
      return enabled && maxEntries > 0;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
  };
}

/** `findById` answering live-order reads from `cache`; reads of deleted orders go straight through. */
export function cachedFindById(repo: Pick<OrderRepository, "findById">, cache: OrderCache): Pick<OrderRepository, "findById"> {
  return {
    findById: (id, opts) =>
      opts?.includeDeleted ? repo.findById(id, opts) : cache.read(id, () => repo.findById(id)),
  };
}
