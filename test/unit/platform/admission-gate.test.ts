import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { createGate, type ClassIndex } from "../../../src/platform/admission/gate.js";

/** A gate on a hand-moved clock, so service times and deadlines are exact. */
function gateOf(maxConcurrent: number, maxQueue = 100) {
  let t = 1_000_000;
  const gate = createGate({ maxConcurrent, maxQueue, clock: () => t, smoothing: 1 });
  return { gate, advance: (ms: number) => (t += ms), now: () => t };
}

/** Settles promises already resolved (a waiter's continuation runs in a microtask). */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** Records the order in which queued calls get their slot, and how each failed. */
function track(p: Promise<number>, name: string, order: string[], failures: Record<string, DomainError>) {
  p.then(
    () => order.push(name),
    (e: DomainError) => (failures[name] = e),
  );
}

const FAR = Number.MAX_SAFE_INTEGER;

describe("admission gate", () => {
  it("lets calls in at once below the limit, and refuses the fast path at it", () => {
    const { gate } = gateOf(2);
    const a = gate.tryEnter();
    const b = gate.tryEnter();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(gate.tryEnter()).toBe(-1);
    gate.leave(a);
    expect(gate.stats().inFlight).toBe(1);
  });

  it("serves waiters by class first, FIFO within a class", async () => {
    const { gate } = gateOf(1);
    const running = gate.tryEnter();
    const order: string[] = [];
    const failures: Record<string, DomainError> = {};
    const arrivals: [string, ClassIndex][] = [["bulk-1", 3], ["std-1", 2], ["vip-1", 1], ["std-2", 2], ["prio-1", 0], ["vip-2", 1], ["bulk-2", 3]];
    for (const [name, cls] of arrivals) track(gate.enter(cls, FAR), name, order, failures);
    expect(gate.stats().queued).toEqual([1, 2, 2, 2]);
    let started = running;
    for (let i = 0; i <= arrivals.length; i++) {
      gate.leave(started);
      await flush();
      started = 1_000_000;
    }
    expect(failures).toEqual({});
    expect(order).toEqual(["prio-1", "vip-1", "vip-2", "std-1", "std-2", "bulk-1", "bulk-2"]);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: [0, 0, 0, 0] });
  });

  it("sheds at once a call whose expected wait would outlast its deadline, with a retry hint", async () => {
    const { gate, advance, now } = gateOf(2);
    // Teach the gate a service time of 100 ms.
    const s = gate.tryEnter();
    advance(100);
    gate.leave(s);
    const a = gate.tryEnter();
    const b = gate.tryEnter();
    // Two slots, 100 ms each: the first waiter expects 50 ms of wait plus 100 ms of service.
    const roomy = gate.enter(2, now() + 151);
    await expect(gate.enter(2, now() + 149)).rejects.toMatchObject({ kind: "UNAVAILABLE", reason: "OVERLOADED" });
    const err = await gate.enter(2, now() + 10).catch((e: DomainError) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).options.retryAfterMs).toBeGreaterThan(0);
    // A VIP does not queue behind STANDARD: the same budget is enough for it.
    const vip = gate.enter(1, now() + 151);
    expect(gate.stats().queued).toEqual([0, 1, 1, 0]);
    expect(gate.stats().shed).toEqual([0, 0, 2, 0]);
    // Both calls took the 100 ms the gate expects (the service times it learns set its allowance).
    expect(a).toBe(b);
    gate.leave(a - 100);
    gate.leave(b - 100);
    await expect(vip).resolves.toBeTypeOf("number");
    await expect(roomy).resolves.toBeTypeOf("number");
  });

  it("takes a waiter out of the queue when its deadline comes or its signal aborts, and never hands it a slot", async () => {
    const { gate, now } = gateOf(1);
    const held = gate.tryEnter();
    const ac = new AbortController();
    const aborted = gate.enter(2, FAR, ac.signal);
    const timedOut = gate.enter(2, now() + 20);
    const later = gate.enter(2, FAR);
    expect(gate.stats().queued[2]).toBe(3);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ kind: "CANCELLED", reason: "CALL_CANCELLED" });
    await expect(timedOut).rejects.toMatchObject({ kind: "UNAVAILABLE", reason: "OVERLOADED" });
    expect(gate.stats().queued[2]).toBe(1);
    gate.leave(held);
    const started = await later;
    gate.leave(started);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: [0, 0, 0, 0] });
    // An already aborted signal never queues.
    gate.tryEnter();
    await expect(gate.enter(1, FAR, AbortSignal.abort())).rejects.toMatchObject({ reason: "CALL_CANCELLED" });
    expect(gate.stats().queued).toEqual([0, 0, 0, 0]);
  });

  it("does not hand a freed slot to a waiter that could no longer finish in time", async () => {
    const { gate, advance, now } = gateOf(1);
    const running = gate.tryEnter();
    const late = gate.enter(2, now() + 300);
    const patient = gate.enter(2, FAR);
    advance(250); // the running call takes 250 ms: the first waiter has 50 ms left, less than one service time
    gate.leave(running);
    await expect(late).rejects.toMatchObject({ kind: "UNAVAILABLE", reason: "OVERLOADED" });
    await expect(patient).resolves.toBe(now());
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: [0, 0, 0, 0] });
  });

  it("when the queue is full, a higher class displaces the newest waiter of the lowest class; an equal class is refused", async () => {
    const { gate } = gateOf(1, 3);
    gate.tryEnter();
    const order: string[] = [];
    const failures: Record<string, DomainError> = {};
    track(gate.enter(3, FAR), "bulk-old", order, failures);
    track(gate.enter(3, FAR), "bulk-new", order, failures);
    track(gate.enter(2, FAR), "std", order, failures);
    track(gate.enter(1, FAR), "vip", order, failures); // full: bulk-new goes
    track(gate.enter(2, FAR), "std-2", order, failures); // full: bulk-old goes
    track(gate.enter(1, FAR), "vip-2", order, failures); // full: std-2 goes (newest of the lowest class below VIP)
    track(gate.enter(3, FAR), "bulk-late", order, failures); // nothing below BULK: refused
    await flush();
    expect(Object.keys(failures).sort()).toEqual(["bulk-late", "bulk-new", "bulk-old", "std-2"]);
    for (const e of Object.values(failures)) expect(e).toMatchObject({ kind: "UNAVAILABLE", reason: "OVERLOADED" });
    expect(gate.stats().queued).toEqual([0, 2, 1, 0]);
  });

  it("passes a freed slot to the next waiter without ever exceeding the limit", async () => {
    const { gate } = gateOf(3, 1000);
    let running = 0;
    let peak = 0;
    const call = async (cls: ClassIndex) => {
      const fast = gate.tryEnter();
      const started = fast >= 0 ? fast : await gate.enter(cls, FAR);
      running++;
      peak = Math.max(peak, running);
      await flush();
      running--;
      gate.leave(started);
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => call((i % 4) as ClassIndex)));
    expect(peak).toBe(3);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: [0, 0, 0, 0] });
  });
});

describe("admission gate allowance", () => {
  it("lets a call wait only while it can still finish with room for the service time's spread", async () => {
    let t = 1_000_000;
    const [advance, now] = [(ms: number) => (t += ms), () => t];
    const gate = createGate({ maxConcurrent: 1, maxQueue: 100, clock: now }); // the default smoothing
    // Service times 50 and 150 ms in turn: mean 100 ms, mean deviation 50 ms — an allowance near 300 ms.
    for (let i = 0; i < 200; i++) gate.leave(gate.tryEnter() - (i % 2 ? 150 : 50));
    const { avgServiceMs } = gate.stats();
    expect(avgServiceMs).toBeGreaterThan(90);
    expect(avgServiceMs).toBeLessThan(110);
    const held = gate.tryEnter();
    // 100 ms of wait (one slot, one service time) plus the allowance: 250 ms is not enough, 450 ms is.
    await expect(gate.enter(2, now() + 250)).rejects.toMatchObject({ reason: "OVERLOADED" });
    const waiting = gate.enter(2, now() + 450);
    advance(200);
    gate.leave(held); // 250 ms left: under the allowance, so the slot is not handed over
    await expect(waiting).rejects.toMatchObject({ reason: "OVERLOADED" });
    expect(gate.stats().inFlight).toBe(0);
  });
});
