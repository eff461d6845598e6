/**
 * Builds the whole application by hand from a Config: database → modules →
 * wrapped service implementations → both servers. main.ts runs it as a
 * process; tests run the same thing on port 0 (test/support/servers.ts).
 */
import type { DescService } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { createClient, createRouterTransport, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Config } from "./config.js";
import { CustomerService } from "../gen/customers/v1/customer_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";
import { createCustomersModule } from "./customers/module.js";
import { createInventoryModule } from "./inventory/module.js";
import { createOrdersModule } from "./orders/module.js";
import { createDatabase, type Database } from "./platform/db.js";
import { createGrpcServer, listenGrpc } from "./platform/grpc-server.js";
import { wrapService, type HandlerDeps, type ServiceRegistration } from "./platform/handlers.js";
import { createHealthRegistry, ServingStatus, startHealthMonitor } from "./platform/health.js";
import { createHttpHandler, createHttpServer } from "./platform/http-server.js";
import { createInProcessTransport } from "./platform/in-process-transport.js";
import type { Logger } from "./platform/logger.js";
import { addReflection } from "./platform/reflection.js";

export interface AppOverrides {
  /** Use this database instead of opening one from the config. */
  readonly database?: Database;
  /** Test hook: replace a raw implementation (failure injection). */
  readonly transformImpl?: (service: DescService, impl: object) => object;
}

export interface App {
  readonly database: Database;
  /** Listens on the configured ports; resolves to the bound ones. */
  start(): Promise<{ grpcPort: number; httpPort: number }>;
  close(): Promise<void>;
}

interface Background {
  start(): void;
  stop(): Promise<void>;
}

export async function createApp(config: Config, logger: Logger, overrides: AppOverrides = {}): Promise<App> {
  const database =
    overrides.database ??
    (await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax }));
  if (config.migrateOnStart) await database.migrate();

  const deps: HandlerDeps = { validator: createValidator(), logger };
  const transform = overrides.transformImpl ?? ((_s, impl) => impl);
  const regs: ServiceRegistration[] = [];
  const background: Background[] = [];
  const seeders: (() => Promise<void>)[] = [];
  const register = <S extends DescService>(service: S, impl: object) => {
    const reg = wrapService(service, transform(service, impl) as never, deps);
    regs.push(reg as unknown as ServiceRegistration);
    return reg;
  };
  const hosts = (name: Config["services"][number]) => config.services.includes(name);

  if (hosts("customers")) {
    const m = createCustomersModule({ db: database.db, logger, defaultDeadlineMs: config.defaultDeadlineMs });
    register(CustomerService, m.impl);
    seeders.push(() => m.seedDemo());
  }
  if (hosts("inventory")) {
    const m = createInventoryModule({
      db: database.db,
      logger,
      reservationTtlSeconds: config.reservationTtlSeconds,
      sweepIntervalMs: config.reservationSweepMs,
      defaultDeadlineMs: config.defaultDeadlineMs,
    });
    register(InventoryService, m.impl);
    background.push(m);
    seeders.push(() => m.seedDemo());
  }
  if (hosts("orders")) {
    const local = createInProcessTransport(
      regs,
      createRouterTransport(({ service }) => {
        for (const r of regs) service(r.service, r.impl as never);
      }),
    );
    const transportTo = (addr: string | undefined): Transport =>
      addr ? createGrpcTransport({ baseUrl: addr }) : local;
    const m = createOrdersModule({
      db: database.db,
      logger,
      inventory: createClient(InventoryService, transportTo(hosts("inventory") ? undefined : config.inventoryAddr)),
      customers: createClient(CustomerService, transportTo(hosts("customers") ? undefined : config.customersAddr)),
      defaultDeadlineMs: config.defaultDeadlineMs,
      deadlineMarginMs: config.deadlineMarginMs,
      reconcileIntervalMs: config.reconcileIntervalMs,
      listen: database.listen,
      orderCacheSize: config.orderCacheSize,
    });
    register(OrderService, m.impl);
    background.push(m);
  }

  const health = createHealthRegistry(regs.map((r) => r.service.typeName));
  const healthReg = wrapService(Health, health.impl, deps) as unknown as ServiceRegistration;
  const served = [...regs, healthReg];
  const monitor = startHealthMonitor(health, () => database.ping(), 2000, logger);

  const grpcServer = createGrpcServer(served, { maxReceiveMessageBytes: config.maxReceiveMessageBytes });
  addReflection(grpcServer, served.map((r) => r.service));
  const httpServer = createHttpServer(
    createHttpHandler(served, {
      maxReceiveMessageBytes: config.maxReceiveMessageBytes,
      ready: () => health.status("") === ServingStatus.SERVING,
    }),
  );

  return {
    database,
    async start() {
      if (config.seedDemoData) for (const seed of seeders) await seed();
      await monitor.checkNow();
      background.forEach((b) => b.start());
      const grpcPort = await listenGrpc(grpcServer, config.host, config.grpcPort);
      const httpPort = await httpServer.listen(config.host, config.httpPort);
      return { grpcPort, httpPort };
    },
    async close() {
      monitor.stop();
      health.setAll(ServingStatus.NOT_SERVING);
      health.close();
      await Promise.all([shutdownGrpc(grpcServer, config.shutdownGraceMs), httpServer.close()]);
      await Promise.all(background.map((b) => b.stop()));
      if (!overrides.database) await database.close();
    },
  };
}

function shutdownGrpc(server: ReturnType<typeof createGrpcServer>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
