import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createExpireReservations } from "../../../src/inventory/app/expire-reservations.js";
import type { InventoryAppPorts } from "../../../src/inventory/app/ports.js";
import type { ReservationRepository } from "../../../src/inventory/domain/ports.js";
import { createPeriodic } from "../../../src/platform/periodic.js";

const silent = pino({ level: "silent" });

describe("expireReservations", () => {
  it("sweeps batch after batch until a batch comes back short, at the given time", async () => {
    const due = Array.from({ length: 7 }, (_, i) => `r${i}`);
    const seen: Date[] = [];
    const reservations = {
      async expireDue(now: Date, limit: number) {
        seen.push(now);
        return due.splice(0, limit);
      },
    } as unknown as ReservationRepository;
    const ports = { reservations, now: () => new Date(0), log: silent } as unknown as InventoryAppPorts;
    const at = new Date("2030-01-01T00:00:00Z");
    expect(await createExpireReservations(ports, 3)(at)).toBe(7);
    expect(seen).toEqual([at, at, at]);
  });
});

describe("expiry sweeper", () => {
  afterEach(() => vi.useRealTimers());

  it("runs at start and every interval, never overlapping, and stop() waits for the run in flight", async () => {
    vi.useFakeTimers();
    let runs = 0;
    let finish: (() => void) | undefined;
    const sweep = () =>
      new Promise<number>((resolve) => {
        runs++;
        finish = () => resolve(0);
      });
    const sweeper = createPeriodic(sweep, { what: "sweep", intervalMs: 1000, logger: silent, runAtStart: true });
    sweeper.start();
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(3000); // the first run is still going
    expect(runs).toBe(1);
    finish?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
    let stopped = false;
    const stopping = sweeper.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish?.();
    await stopping;
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(2);
  });

  it("logs a failed run and keeps going", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const logger = pino({ level: "error" }, { write: (s: string) => void errors.push(JSON.parse(s)) });
    let runs = 0;
    const sweeper = createPeriodic(
      async () => {
        runs++;
        throw new Error("db down");
      },
      { what: "sweep", intervalMs: 1000, logger, runAtStart: true },
    );
    sweeper.start();
    await vi.advanceTimersByTimeAsync(1000);
    await sweeper.stop();
    expect(runs).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it("skips its ticks while this instance is not the leader", async () => {
    vi.useFakeTimers();
    let leader = false;
    let runs = 0;
    const sweeper = createPeriodic(async () => void runs++, { what: "sweep", intervalMs: 1000, logger: silent, runAtStart: true, when: () => leader });
    sweeper.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toBe(0);
    leader = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs).toBe(2);
    await sweeper.stop();
  });
});
