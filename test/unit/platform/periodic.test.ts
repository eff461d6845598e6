import { afterEach, describe, expect, it, vi } from "vitest";
import { createPeriodic } from "../../../src/platform/periodic.js";

const silent = { info() {}, warn() {}, error() {} };

describe("createPeriodic", () => {
  afterEach(() => vi.useRealTimers());

  it("calls a plain function (no promise) at every tick, whatever it started, and stop() has nothing to wait for", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const started: Promise<void>[] = [];
    const poll = createPeriodic(() => {
      calls++;
      started.push(new Promise(() => {})); // work of its own that never ends: not the runner's to wait for
    }, { what: "poll", intervalMs: 100, logger: silent });
    poll.start();
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(350);
    expect(calls).toBe(3);
    await poll.idle();
    await poll.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(3);
  });

  it("reports a failed run, or a plain function's throw, through onError instead of the log", async () => {
    vi.useFakeTimers();
    const logged: unknown[] = [];
    const reported: unknown[] = [];
    const logger = { ...silent, error: (fields: object) => void logged.push(fields) };
    const job = createPeriodic(async () => {
      throw new Error("job");
    }, { what: "job", intervalMs: 100, logger, runAtStart: true, onError: (err) => reported.push(err) });
    const plain = createPeriodic(() => {
      throw new Error("plain");
    }, { what: "plain", intervalMs: 100, logger, onError: (err) => reported.push(err) });
    job.start();
    plain.start();
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([job.stop(), plain.stop()]);
    expect(reported.map((e) => (e as Error).message).sort()).toEqual(["job", "job", "plain"]);
    expect(logged).toEqual([]);
  });

  it("idle() resolves once the run in flight (the one at start) is over", async () => {
    let finish: (() => void) | undefined;
    const job = createPeriodic(() => new Promise<void>((resolve) => (finish = resolve)), {
      what: "job",
      intervalMs: 60_000,
      logger: silent,
      runAtStart: true,
    });
    job.start();
    let idle = false;
    const waiting = job.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(idle).toBe(false);
    finish?.();
    await waiting;
    expect(idle).toBe(true);
    await job.stop();
  });
});
