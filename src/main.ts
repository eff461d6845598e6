/**
 * The process: read config, build the app, listen, print how to reach it,
 * shut down gracefully on SIGINT/SIGTERM.
 */
import { createApp, type App } from "./app.js";
import { banner } from "./banner.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { runExitHooks } from "./platform/exit-hooks.js";
import { createLogger } from "./platform/logger.js";

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
  let app: App;
  try {
    app = await createApp(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const ports = await app.start();
  logger.info({ ...ports, services: config.services }, "listening");
  process.stdout.write((await banner(config, app.auth, ports)) + "\n");

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

main().catch((err) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
