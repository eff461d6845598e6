/**
 * The process: read config, build the app, listen, print how to reach it,
 * shut down gracefully on SIGINT/SIGTERM. With WORKERS > 1 this process is
 * the primary of a node:cluster (platform/workers.ts): it forks the workers,
 * each of which runs this file's single-process path on the shared ports.
 */
import cluster from "node:cluster";
import { createApp, type App } from "./app.js";
import { banner } from "./banner.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createAuth } from "./platform/auth/setup.js";
import { runExitHooks } from "./platform/exit-hooks.js";
import { createLogger, type Logger } from "./platform/logger.js";
import { LISTENING, superviseWorkers, type WorkerListening } from "./platform/workers.js";

/** Time a worker gets after SIGTERM beyond SHUTDOWN_GRACE_MS: telemetry's flush (5 s), closing the database, exiting. */
const WORKER_EXIT_MARGIN_MS = 15_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, undefined, { traceIds: config.tracing });
  if (config.workers > 1 && cluster.isPrimary) return primary(config, logger);
  return serve(config, logger, cluster.isWorker ? cluster.worker!.id : undefined);
}

/** One process serving both ports: the whole service (WORKERS=1), or worker `worker` of a cluster. */
async function serve(config: Config, rootLogger: Logger, worker: number | undefined): Promise<void> {
  const logger = worker === undefined ? rootLogger : rootLogger.child({ worker });
  let app: App;
  try {
    app = await createApp(config, logger, { worker });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const ports = await app.start();
  logger.info({ ...ports, services: config.services }, "listening");
  if (worker === undefined) process.stdout.write((await banner(config, app.auth, ports)) + "\n");
  else process.send!({ type: LISTENING, ...ports } satisfies WorkerListening);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    await app.close();
    await runExitHooks(5000);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/**
 * The cluster's primary: forks and keeps the workers, prints the banner once
 * all listen, relays SIGTERM/SIGINT to them and exits when they have drained.
 */
async function primary(config: Config, logger: Logger): Promise<void> {
  logger.info({ workers: config.workers }, "starting workers");
  const supervisor = superviseWorkers({
    workers: config.workers,
    logger,
    stopTimeoutMs: config.shutdownGraceMs + WORKER_EXIT_MARGIN_MS,
    // The first worker migrated and seeded before the others start.
    followerEnv: { MIGRATE_ON_START: "false", SEED_DEMO_DATA: "false" },
  });
  process.on("SIGINT", () => supervisor.stop("SIGINT"));
  process.on("SIGTERM", () => supervisor.stop("SIGTERM"));
  void supervisor.done.then(async (code) => {
    await runExitHooks(5000);
    process.exit(code);
  });
  const ports = await supervisor.started.catch(() => undefined);
  if (!ports) return; // done exits 1
  logger.info({ ...ports, workers: config.workers, services: config.services }, "listening");
  // The banner's tokens: signed with the development key the first worker created (or found).
  const auth = await createAuth(config.auth, config.dataDir);
  process.stdout.write((await banner(config, auth, ports)) + "\n");
}

main().catch((err) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
