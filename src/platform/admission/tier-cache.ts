/**
 * Customer tiers for admission (customer id → STANDARD | VIP), bounded
 * (`maxEntries`, oldest insertion evicted first) and fresh for `ttlMs`.
 *
 * Filled two ways: when the customers service is hosted in this process, by
 * what its use cases read and write (`record`, with the row version, so an
 * older read never overwrites a newer write — an UpdateCustomer that changes
 * a tier is seen at once); otherwise, or for a customer not seen yet, by
 * `lookup` (GetCustomer through the generated client, as service:orders),
 * one flight per id. A stale entry still answers while it is refreshed in
 * the background, and a failed lookup counts as STANDARD for a second, so a
 * customers outage neither blocks admission nor multiplies its load.
 *
 * With the customers service in this process the cache can also hold the
 * **roster** — every VIP's id (`setRoster`, reloaded every `ttlMs` by
 * app.ts): then a customer it has no entry for is STANDARD unless on the
 * roster, answered at once, with no lookup. Without it, nearly every waiting
 * call of a shop with many customers was a GetCustomer before it could queue
 * — a database read beside the work the gate protects (BENCHMARKS.md
 * "Limits on vs off"). A roster larger than `maxEntries` is not kept: lookups
 * as before.
 */
import type { Logger } from "pino";

export type Tier = "STANDARD" | "VIP";

export interface TierFact {
  readonly tier: Tier;
  /** The customer row's version: higher wins. */
  readonly version: number;
}

export type TierLookup = (customerId: string) => Promise<TierFact | undefined>;

export interface TierCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly lookup: TierLookup | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface TierCache {
  /** The customer's tier: at once when known, else after one lookup; STANDARD when it cannot be known. */
  tierOf(customerId: string): Tier | Promise<Tier>;
  /** What the customers service just read or wrote. */
  record(customerId: string, fact: TierFact): void;
  /** Every VIP customer (id, row version): customers neither here nor recorded are STANDARD, with no lookup. */
  setRoster(vips: readonly { id: string; version: number }[]): void;
  /** Whether a roster is held (customers not known are then STANDARD without a lookup). */
  readonly hasRoster: boolean;
  readonly size: number;
}

interface Entry extends TierFact {
  expires: number;
}

/** How long a failed lookup answers STANDARD before it is tried again. */
const FAILURE_HOLD_MS = 1000;
const UNKNOWN: TierFact = { tier: "STANDARD", version: -1 };

export function createTierCache(o: TierCacheOptions): TierCache {
  const now = o.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const flights = new Map<string, Promise<Tier>>();
  /** VIP id → row version, once a complete roster was given. */
  let roster: Map<string, number> | undefined;

  const store = (id: string, fact: TierFact, ttl: number) => {
    if (o.maxEntries === 0) return;
    entries.delete(id);
    if (entries.size >= o.maxEntries) entries.delete(entries.keys().next().value!);
    entries.set(id, { tier: fact.tier, version: fact.version, expires: now() + ttl });
  };
  const fetch = (id: string): Promise<Tier> => {
    const running = flights.get(id);
    if (running) return running;
    const flight = (o.lookup ? o.lookup(id) : Promise.resolve(undefined)).then(
      (fact) => {
        const current = entries.get(id);
        // A write recorded meanwhile (a newer version) stays.
        if (flights.get(id) === flight && !(current && current.version > (fact?.version ?? -1))) {
          store(id, fact ?? UNKNOWN, o.ttlMs);
        }
        return entries.get(id)?.tier ?? fact?.tier ?? "STANDARD";
      },
      (err: unknown) => {
        o.logger.warn({ err, customerId: id }, "customer tier lookup failed: STANDARD meanwhile");
        const hold = Math.min(FAILURE_HOLD_MS, o.ttlMs);
        const stale = entries.get(id);
        if (stale) stale.expires = now() + hold;
        else store(id, UNKNOWN, hold);
        return stale?.tier ?? "STANDARD";
      },
    );
    flights.set(id, flight);
    void flight.finally(() => {
      if (flights.get(id) === flight) flights.delete(id);
    });
    return flight;
  };

  return {
    setRoster(vips) {
      if (vips.length > o.maxEntries) {
        o.logger.warn({ vips: vips.length, maxEntries: o.maxEntries }, "more VIP customers than TIER_CACHE_SIZE: tiers are looked up instead");
        roster = undefined;
        return;
      }
      roster = new Map(vips.map((c) => [c.id, c.version]));
    },
    tierOf(id) {
      const e = entries.get(id);
      if (roster) {
        // A fresh recorded fact (this process's reads and writes) at least as new as the roster's wins;
        // past its TTL the roster, reloaded as often, knows as much (a change made by another replica).
        const v = roster.get(id);
        if (e && e.expires > now() && (v === undefined || e.version >= v)) return e.tier;
        return v === undefined ? "STANDARD" : "VIP";
      }
      if (!e) return fetch(id);
      if (e.expires <= now()) void fetch(id); // stale-while-revalidate
      return e.tier;
    },
    record(id, fact) {
      const e = entries.get(id);
      if (e && e.version > fact.version) return;
      store(id, fact, o.ttlMs);
    },
    get hasRoster() {
      return roster !== undefined;
    },
    get size() {
      return entries.size;
    },
  };
}
