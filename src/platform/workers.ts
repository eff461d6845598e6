/**
 * WORKERS > 1 (README "Every core"): the primary process of a node:cluster.
 * It builds no app. It forks the workers — each a whole service (main.ts:
 * createApp, both ports, its own drain) — and keeps them:
 *
 * - The first worker starts alone: it applies the migrations and seeds the
 *   demo data (when configured), creates the development key, and listens.
 *   The others start after it, with MIGRATE_ON_START and SEED_DEMO_DATA off,
 *   so N processes never race over a schema or a seed.
 * - Both ports are shared: a worker's `listen` goes through the primary,
 *   which accepts and hands each new connection to the workers in turn
 *   (round robin). Port 0 works: the workers' n-th listen on port 0 shares
 *   one handle, so they all get the same two ports.
 * - A worker that exits while nothing asked it to is replaced, after a
 *   backoff (`restartDelayMs`). Five replacements in a row that exit before
 *   listening end the primary (exit 1): the workers cannot start, and a
 *   supervisor above (systemd, Kubernetes) should see it.
 * - On SIGTERM/SIGINT (`stop`) every worker gets SIGTERM and drains as a
 *   single process does (app.ts close()); the primary waits for all of them
 *   and exits 0 when all exited cleanly. None is restarted meanwhile. A worker
 *   still running `stopTimeoutMs` later is killed, and the exit is 1.
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "./logger.js";

/** What a worker sends the primary once it listens (main.ts). */
export interface WorkerListening {
  readonly type: "order-service:listening";
  readonly grpcPort: number;
  readonly httpPort: number;
}

export const LISTENING: WorkerListening["type"] = "order-service:listening";

const isListening = (m: unknown): m is WorkerListening => typeof m === "object" && m !== null && (m as { type?: unknown }).type === LISTENING;

/** Replacements in a row that may exit before listening before the primary gives up. */
export const MAX_FAILED_STARTS = 5;
/** A worker that has listened this long resets the backoff: it was not crash-looping. */
export const STABLE_AFTER_MS = 30_000;

/** How long to wait before replacing a worker, after `crashes` unexpected exits in a row (1, 2, …): 250 ms doubling to 30 s. */
export function restartDelayMs(crashes: number): number {
  return Math.min(30_000, 250 * 2 ** Math.max(0, crashes - 1));
}

export interface SupervisorOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** The longest a worker's drain may take after SIGTERM before it is killed. */
  readonly stopTimeoutMs: number;
  /** Environment of every worker but the first (migrations and demo data are the first's). */
  readonly followerEnv: Readonly<Record<string, string>>;
}

export interface Supervisor {
  /**
   * Both ports, as every worker bound them, once all listen. Rejects when a
   * worker exits before it listens (or stop() comes first): the started ones
   * are stopped then, and `done` resolves 1.
   */
  readonly started: Promise<{ readonly grpcPort: number; readonly httpPort: number }>;
  /** Asks every worker to drain; `done` resolves once all have exited. */
  stop(signal: NodeJS.Signals): void;
  /** The primary's exit code: 0 once every worker drained cleanly after stop(); 1 otherwise. */
  readonly done: Promise<number>;
}

interface Slot {
  readonly worker: Worker;
  /** When it reported listening; undefined before. */
  listeningAt?: number;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts the workers (see `started`) and keeps them until stop(). */
export function superviseWorkers(o: SupervisorOptions): Supervisor {
  const { logger } = o;
  const live = new Map<number, Slot>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  let starting = true;
  let crashes = 0;
  let failedStarts = 0;
  let ports: { grpcPort: number; httpPort: number } | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const fork = (first: boolean): { slot: Slot; listening: Promise<WorkerListening> } => {
    const worker = cluster.fork(first ? {} : o.followerEnv);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      worker.once("exit", (code: number | null, signal: string | null) => resolve({ code, signal })),
    );
    const slot: Slot = { worker, exited };
    live.set(worker.id, slot);
    const listening = new Promise<WorkerListening>((resolve, reject) => {
      worker.on("message", (m: unknown) => {
        if (!isListening(m) || slot.listeningAt !== undefined) return;
        slot.listeningAt = Date.now();
        failedStarts = 0;
        logger.info({ worker: worker.id, workerPid: worker.process.pid, grpcPort: m.grpcPort, httpPort: m.httpPort }, "worker listening");
        if (ports && (m.grpcPort !== ports.grpcPort || m.httpPort !== ports.httpPort)) {
          logger.error({ worker: worker.id, expected: ports, got: m }, "a worker bound other ports than the rest (port 0 after every worker had exited?)");
        }
        resolve(m);
      });
      void exited.then(({ code, signal }) => reject(new Error(`worker ${worker.id} exited (${signal ?? `code ${code}`}) before listening`)));
    });
    listening.catch(() => undefined);
    void exited.then((how) => {
      live.delete(worker.id);
      afterExit(slot, how);
    });
    return { slot, listening };
  };

  const afterExit = (slot: Slot, how: { code: number | null; signal: string | null }) => {
    if (stopping || (starting && slot.listeningAt === undefined)) return; // stop() and the start-up phase account for these
    const { worker } = slot;
    const now = Date.now();
    if (slot.listeningAt === undefined) failedStarts++;
    else if (now - slot.listeningAt >= STABLE_AFTER_MS) crashes = 0;
    crashes++;
    if (failedStarts >= MAX_FAILED_STARTS) {
      logger.fatal({ worker: worker.id, ...how, failedStarts }, "replacement workers keep exiting before they listen: giving up");
      stopAll("SIGTERM", 1);
      return;
    }
    const delayMs = restartDelayMs(crashes);
    logger.error({ worker: worker.id, workerPid: worker.process.pid, ...how, restartInMs: delayMs }, "worker exited unexpectedly; replacing it");
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopping) fork(false);
    }, delayMs);
    timers.add(timer);
  };

  /** Every live worker gets `signal`; resolves `done` once all exited (killing stragglers after stopTimeoutMs). */
  const stopAll = (signal: NodeJS.Signals, failed: 0 | 1 = 0) => {
    if (stopping) return;
    stopping = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const slots = [...live.values()];
    logger.info({ signal, workers: slots.length }, "stopping: every worker drains");
    for (const s of slots) s.worker.process.kill(signal);
    let clean = failed === 0;
    const kill = setTimeout(() => {
      for (const s of live.values()) {
        logger.error({ worker: s.worker.id, workerPid: s.worker.process.pid }, "worker still running after its drain time: killed");
        s.worker.process.kill("SIGKILL");
      }
    }, o.stopTimeoutMs);
    kill.unref();
    void Promise.all(
      slots.map(async (s) => {
        const { code, signal: sig } = await s.exited;
        // Killed by the relayed signal itself: it had not yet installed its handler (still starting), so had nothing in flight.
        if (code !== 0 && sig !== signal) clean = false;
      }),
    ).then(() => {
      clearTimeout(kill);
      logger.info({ clean }, "every worker has exited");
      finish(clean ? 0 : 1);
    });
  };

  const start = async () => {
    // The first alone (migrations, demo data, dev key), then the rest at once.
    const m = await fork(true).listening;
    ports = { grpcPort: m.grpcPort, httpPort: m.httpPort };
    if (stopping) throw new Error("stopped while starting");
    await Promise.all(Array.from({ length: o.workers - 1 }, () => fork(false).listening));
    if (stopping) throw new Error("stopped while starting");
    starting = false;
    return ports;
  };
  const started = start();
  started.catch((err: unknown) => {
    if (!stopping) logger.fatal({ err }, "the workers could not start");
    stopAll("SIGTERM", 1);
  });
  return { started, stop: (signal) => stopAll(signal), done };
}
