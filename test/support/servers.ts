/**
 * The whole application on real grpc-js and Connect servers on port 0, over a
 * fresh test database: the twin of main.ts for end-to-end tests.
 */
import type { DescService } from "@bufbuild/protobuf";
import { createApp } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/platform/logger.js";
import { createTestDatabase, type TestDatabase } from "./db.js";

export interface TestStack {
  readonly grpcUrl: string;
  readonly httpUrl: string;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

export async function startTestStack(
  opts: {
    database?: TestDatabase;
    config?: Partial<Config>;
    transformImpl?: (service: DescService, impl: object) => object;
  } = {},
): Promise<TestStack> {
  const database = opts.database ?? (await createTestDatabase());
  const config: Config = {
    ...loadConfig({}),
    host: "127.0.0.1",
    grpcPort: 0,
    httpPort: 0,
    migrateOnStart: false,
    seedDemoData: false,
    logLevel: process.env.TEST_LOG_LEVEL ?? "silent",
    shutdownGraceMs: 1000,
    ...opts.config,
  };
  const app = await createApp(config, createLogger(config.logLevel), {
    database,
    transformImpl: opts.transformImpl,
  });
  const ports = await app.start();
  return {
    grpcUrl: `http://127.0.0.1:${ports.grpcPort}`,
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
    database,
    close: async () => {
      await app.close();
      if (!opts.database) await database.dispose();
    },
  };
}
