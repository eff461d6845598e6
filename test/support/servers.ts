/**
 * The whole application, built by createApp exactly as main.ts builds it,
 * on real grpc-js and Connect servers on port 0 over a fresh test database.
 * Every test above the domain level starts one of these: end-to-end tests
 * call the ports, integration tests call `transport` (the in-process
 * transport onto the same wrapped services the ports serve). Callers need
 * tokens, as in production: see auth.ts (`asPermitted`, `withPrincipal`, `bearer`).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { createApp, type App, type AppOverrides } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/platform/logger.js";
import { testAuthConfig } from "./auth.js";
import { createTestDatabase, type TestDatabase } from "./db.js";

export interface TestStack {
  readonly app: App;
  readonly grpcUrl: string;
  readonly httpUrl: string;
  readonly database: TestDatabase;
  /** In process, through the same wrapping as the servers. */
  readonly transport: Transport;
  close(): Promise<void>;
}

export interface TestStackOptions {
  readonly database?: TestDatabase;
  readonly config?: Partial<Config>;
  readonly transformImpl?: (service: DescService, impl: object) => object;
  readonly dependencyTransport?: (service: DescService) => Transport | undefined;
  readonly wrapOrderRepository?: AppOverrides["wrapOrderRepository"];
}

/** Settings for tests: ports 0, no seeding, the test keys (auth.ts), quiet logs. */
export async function testConfig(overrides: Partial<Config> = {}): Promise<Config> {
  const auth = await testAuthConfig();
  return {
    ...loadConfig({
      AUTH_PUBLIC_KEYS: auth.publicKeyFiles.join(","),
      AUTH_SERVICE_KEY: auth.serviceKeyFile,
      AUTH_ISSUER: auth.issuer,
      AUTH_AUDIENCE: auth.audience,
    }),
    host: "127.0.0.1",
    grpcPort: 0,
    httpPort: 0,
    migrateOnStart: false,
    seedDemoData: false,
    logLevel: process.env.TEST_LOG_LEVEL ?? "silent",
    shutdownGraceMs: 1000,
    ...overrides,
  };
}

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const database = opts.database ?? (await createTestDatabase());
  const config = await testConfig(opts.config);
  const app = await createApp(config, createLogger(config.logLevel), {
    database,
    transformImpl: opts.transformImpl,
    dependencyTransport: opts.dependencyTransport,
    wrapOrderRepository: opts.wrapOrderRepository,
  });
  const ports = await app.start();
  return {
    app,
    grpcUrl: `http://127.0.0.1:${ports.grpcPort}`,
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
    database,
    transport: app.transport,
    close: async () => {
      await app.close();
      if (!opts.database) await database.dispose();
    },
  };
}
