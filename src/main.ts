/**
 * The process: read config, build the app, listen, print how to reach it,
 * shut down gracefully on SIGINT/SIGTERM.
 */
import { createApp } from "./app.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { runExitHooks } from "./platform/exit-hooks.js";
import { createLogger } from "./platform/logger.js";

function banner(config: Config, ports: { grpcPort: number; httpPort: number }): string {
  const db = config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : `embedded PGlite in ${config.dataDir}`;
  return [
    "",
    `order service ready — hosting ${config.services.join(", ")} on ${db}`,
    `  gRPC:            127.0.0.1:${ports.grpcPort}   (reflection + grpc.health.v1)`,
    `  Connect/HTTP:    http://127.0.0.1:${ports.httpPort}   (Connect JSON/binary, gRPC-Web, gRPC; /healthz /readyz)`,
    "",
    "try:",
    `  npx buf curl --protocol grpc --http2-prior-knowledge --list-methods http://127.0.0.1:${ports.grpcPort}`,
    `  curl -s -X POST -H 'content-type: application/json' -d '{"pageSize": 5}' http://127.0.0.1:${ports.httpPort}/inventory.v1.InventoryService/ListProducts`,
    ...(config.seedDemoData && config.services.length === 3
      ? [
          "  # an order for the demo VIP customer:",
          `  curl -s -X POST -H 'content-type: application/json' -d '{"customerId":"22222222-2222-4222-8222-222222222222","requestId":"try-1","items":[{"productId":"aaaaaaaa-0000-4000-8000-000000000001","quantity":1}]}' http://127.0.0.1:${ports.httpPort}/orders.v1.OrderService/CreateOrder`,
        ]
      : []),
    "",
  ].join("\n");
}

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
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, logger);
  const ports = await app.start();
  logger.info({ ...ports, services: config.services }, "listening");
  process.stdout.write(banner(config, ports) + "\n");

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
