/**
 * The pool gate (src/platform/pool-gate.ts): slots up to the pool's size,
 * transactions up to their share, FIFO hand-over, and a wait that ends with
 * UNAVAILABLE DB_POOL_EXHAUSTED (retry hint) or, when the call's deadline is
 * nearer, DEADLINE_EXCEEDED.
 */
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/kernel/errors.js";
import { createPoolGate, transactionShare } from "../../../src/platform/pool-gate.js";

async function rejection(p: Promise<void> | undefined): Promise<DomainError> {
  expect(p).toBeInstanceOf(Promise);
  const err = await (p as Promise<void>).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

describe("pool gate", () => {
  it("keeps a fifth of the pool (at least one connection) from transactions", () => {
    expect([1, 2, 4, 5, 10, 20].map(transactionShare)).toEqual([1, 1, 3, 4, 8, 16]);
  });

  it("takes a free slot at once, without a promise", () => {
    const gate = createPoolGate({ size: 2, transactions: 1, waitMs: 1000 });
    expect(gate.acquire(false)).toBeUndefined();
    expect(gate.acquire(true)).toBeUndefined();
    expect(gate.stats()).toEqual({ inUse: 2, transactions: 1, waiting: 0 });
    gate.release(false);
    gate.release(true);
    expect(gate.stats()).toEqual({ inUse: 0, transactions: 0, waiting: 0 });
  });

  it("lets statements past transactions that are over their share", async () => {
    const gate = createPoolGate({ size: 3, transactions: 1, waitMs: 10_000 });
    expect(gate.acquire(true)).toBeUndefined();
    const tx = gate.acquire(true); // over the share: waits
    expect(tx).toBeInstanceOf(Promise);
    expect(gate.acquire(false)).toBeUndefined(); // a statement still finds a connection
    gate.release(true);
    await tx; // handed over
    expect(gate.stats()).toEqual({ inUse: 2, transactions: 1, waiting: 0 });
  });

  it("hands freed slots over first come, first served", async () => {
    const gate = createPoolGate({ size: 1, transactions: 1, waitMs: 10_000 });
    expect(gate.acquire(false)).toBeUndefined();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => (gate.acquire(n === 2) as Promise<void>).then(() => order.push(n)));
    for (let i = 0; i < 3; i++) {
      gate.release(i === 2);
      await waits[i];
    }
    expect(order).toEqual([1, 2, 3]);
    gate.release(false);
    expect(gate.stats()).toEqual({ inUse: 0, transactions: 0, waiting: 0 });
  });

  it("gives up after waitMs with UNAVAILABLE DB_POOL_EXHAUSTED and a retry hint", async () => {
    const gate = createPoolGate({ size: 1, transactions: 1, waitMs: 20 });
    gate.acquire(true);
    const err = await rejection(gate.acquire(true));
    expect(err.kind).toBe("UNAVAILABLE");
    expect(err.reason).toBe("DB_POOL_EXHAUSTED");
    expect(err.options.retryAfterMs).toBe(20);
    expect(gate.stats()).toEqual({ inUse: 1, transactions: 1, waiting: 0 });
    gate.release(true);
    expect(gate.acquire(true)).toBeUndefined(); // the slot was not lost to the waiter that left
  });

  it("records every unit's wait: 0 for a free slot, the time waited for one handed over or refused", async () => {
    const gate = createPoolGate({ size: 1, transactions: 1, waitMs: 20 });
    gate.acquire(true);
    await rejection(gate.acquire(true)); // refused after ~20 ms
    const handed = gate.acquire(true) as Promise<void>;
    await new Promise((r) => setTimeout(r, 5));
    gate.release(true);
    await handed;
    const { waits } = gate;
    expect(waits.count).toBe(3);
    expect(waits.counts[0]).toBe(1); // le="0": the one that found its slot free
    expect(waits.min).toBe(0);
    expect(waits.max).toBeGreaterThanOrEqual(0.015);
    expect(waits.sum).toBeGreaterThan(0.015);
  });

  it("waits no longer than the call's deadline: DEADLINE_EXCEEDED", async () => {
    const gate = createPoolGate({ size: 1, transactions: 1, waitMs: 60_000 });
    gate.acquire(false);
    const err = await rejection(gate.acquire(false, Date.now() + 20));
    expect(err.kind).toBe("DEADLINE_EXCEEDED");
    expect(err.reason).toBe("DEADLINE_EXCEEDED");
  });
});
