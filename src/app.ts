/**
 * Builds the whole application by hand from a Config: database → modules →
 * one registry of wrapped service implementations (sealed before anything is
 * served) → both servers. main.ts runs it as a process; every test that needs
 * more than a domain function builds it the same way (test/support/app.ts).
 */
import type { DescService } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { createClient, createContextValues, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createPeriodic } from "./platform/periodic.js";
import type { Config } from "./config.js";
import { CustomerService } from "../gen/customers/v1/customer_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";
import { createCustomersModule, type CustomersModule } from "./customers/module.js";
import { createInventoryModule, type InventoryModule } from "./inventory/module.js";
import type { OrderRepository } from "./orders/domain/ports.js";
import { createOrdersModule, type OrdersModule } from "./orders/module.js";
import { createAdmissionControl, type AdmissionControl } from "./platform/admission/policy.js";
import { createTierCache, type TierCache, type TierLookup } from "./platform/admission/tier-cache.js";
import { createTierLookup } from "./platform/admission/tier-lookup.js";
import { ASSERTED_PRINCIPAL, type Authenticator } from "./platform/auth/authenticator.js";
import { createMetrics } from "./platform/metrics.js";
import { observe } from "./platform/observed-metrics.js";
import { addDatabaseHistograms } from "./platform/db-metrics.js";
import { createTracer, tracingInterceptor } from "./platform/tracing.js";
import { createEventPublisher } from "./platform/events/publishers.js";
import { createEventsEndpoint } from "./platform/events/events-endpoint.js";
import type { OutboxRelay } from "./platform/events/outbox-relay.js";
import { createLeadership, type Leadership } from "./platform/leader.js";
import { createAuth, ORDERS_SERVICE, type Auth, type ServiceCredentials } from "./platform/auth/setup.js";
import { createDatabase, type Database } from "./platform/db.js";
import { createConnectionLimiter } from "./platform/rpc/connection-front.js";
import { createGrpcFront, createGrpcServer } from "./platform/rpc/grpc-server.js";
import type { RpcImpl } from "./platform/rpc/handlers.js";
import { createHealthRegistry, ServingStatus, startHealthMonitor } from "./platform/health.js";
import { createApiDocs } from "./platform/api-docs.js";
import { createHttpHandler, createHttpServer } from "./platform/rpc/http-server.js";
import { createInProcessTransport } from "./platform/rpc/in-process-transport.js";
import type { Logger } from "./platform/logger.js";
import { createRateLimiter } from "./platform/rate-limit.js";
import { createRedisClient } from "./platform/redis.js";
import { addReflection } from "./platform/rpc/reflection.js";
import { createServiceRegistry } from "./platform/rpc/service-registry.js";
import { createShutdownSignals } from "./platform/shutdown.js";
import { createWebConsole } from "./platform/web-console.js";
import { createDemoIdentities } from "./demo-identities.js";

export interface AppOverrides {
  /** Use this database instead of opening one from the config. */
  readonly database?: Database;
  /** Test hook: replace a raw implementation before it is wrapped (failure injection). */
  readonly transformImpl?: (service: DescService, impl: object) => object;
  /** Test hook: the transport the orders module reaches a dependency through, instead of the configured one. */
  readonly dependencyTransport?: (service: DescService) => Transport | undefined;
  /** Test hook: wrap the orders repository (count its reads). */
  readonly wrapOrderRepository?: (repo: OrderRepository) => OrderRepository;
  /** Test hook: serve the browser console from this directory (a fresh web/build.mjs output) instead of dist/web. */
  readonly webConsoleDir?: string;
  /** This process is worker N of WORKERS > 1 (main.ts, README "Every core"): its metrics carry `worker="N"`. */
  readonly worker?: number;
}

/** Sends the order module's service token on calls to services deployed apart. */
function bearer(credentials: ServiceCredentials | undefined): Interceptor[] {
  if (!credentials) return [];
  return [
    (next) => async (req) => {
      req.header.set("authorization", `Bearer ${await credentials.token()}`);
      return next(req);
    },
  ];
}

export interface App {
  readonly database: Database;
  /** How callers are authenticated; its dev signer mints the banner's tokens. */
  readonly auth: Auth;
  /** The hosted modules, for tests and tools (reconcile now, sweep now, look at the cache). */
  readonly modules: { readonly orders?: OrdersModule; readonly inventory?: InventoryModule; readonly customers?: CustomersModule };
  /** An in-process transport onto every hosted service, through the same wrapping the servers use (credentials in headers, as over the network). */
  readonly transport: Transport;
  /** Priority admission (undefined when ADMISSION_MAX_CONCURRENT=0), for tests and tools to look at. */
  readonly admission?: AdmissionControl;
  /** Admission's customer tiers (with the VIP roster when customers is hosted here), for tests and tools. */
  readonly tiers: TierCache;
  /** Who runs the single-instance background work (leader.ts), for tests and tools. */
  readonly leaders: {
    readonly sweeper?: Leadership;
    readonly reconciler?: Leadership;
    /** Retention's (retention.ts), one per service; absent when its window is 0 (nothing purged). */
    readonly inventoryRetention?: Leadership;
    readonly ordersRetention?: Leadership;
  };
  /** Seeds (when configured), starts background work, listens on the configured ports; resolves to the bound ones. */
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
    (await createDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolMax: config.dbPoolMax,
      poolWaitMs: config.dbPoolWaitMs,
      deadlineMarginMs: config.deadlineMarginMs,
    }));
  if (config.migrateOnStart) await database.migrate();
  const auth = await createAuth(config.auth, config.dataDir);
  if (config.auth.disabled) logger.warn("AUTH_DISABLED=true: every call is an admin and no token is checked; never run a deployment this way");

  const shutdown = createShutdownSignals();
  // Rate limits: shared through Redis when REDIS_URL is set, else counted in this process.
  const redis = config.redisUrl && config.rateLimit.enabled ? createRedisClient(config.redisUrl, logger) : undefined;
  const rateLimiter = config.rateLimit.enabled ? createRateLimiter(config.rateLimit, { logger, redis: redis?.client }) : undefined;
  // Priority admission; customer tiers come from the customers service, here or apart (set below).
  const tierSource: { lookup?: TierLookup } = {};
  const tiers = createTierCache({
    maxEntries: config.admission.tierCacheSize,
    ttlMs: config.admission.tierCacheTtlMs,
    lookup: (id) => tierSource.lookup?.(id) ?? Promise.resolve(undefined),
    logger,
  });
  const admission =
    config.admission.maxConcurrent > 0 ? createAdmissionControl({ ...config.admission, tiers, ungatedServices: [Health.typeName] }) : undefined;

  const metrics = config.metrics.enabled ? createMetrics({ worker: overrides.worker }) : undefined;
  const tracer = config.tracing ? createTracer() : undefined;
  const registry = createServiceRegistry({
    validator: createValidator(),
    logger,
    defaultDeadlineMs: config.defaultDeadlineMs,
    authenticator: auth.authenticator,
    shutdown,
    rateLimiter,
    admission,
    metrics,
    tracer,
  });
  const transform = overrides.transformImpl ?? ((_s, impl) => impl);
  const hostedNames: string[] = [];
  const register = <S extends DescService>(service: S, impl: RpcImpl<S>) => {
    registry.register(service, transform(service, impl) as RpcImpl<S>);
    hostedNames.push(service.typeName);
  };
  const transport = createInProcessTransport(registry);
  // The order module calls co-hosted services as itself, never with its caller's token.
  const asOrders = createInProcessTransport(registry, {
    contextValues: () => createContextValues().set(ASSERTED_PRINCIPAL, ORDERS_SERVICE),
  });
  const background: Background[] = [];
  const seeders: (() => Promise<void>)[] = [];
  const modules: { orders?: OrdersModule; inventory?: InventoryModule; customers?: CustomersModule } = {};
  const hosts = (name: Config["services"][number]) => config.services.includes(name);
  /** Co-hosted: in process; otherwise gRPC to the configured address. */
  const transportTo = (service: DescService, hosted: boolean, addr: string | undefined): Transport =>
    overrides.dependencyTransport?.(service) ??
    (hosted || !addr ? asOrders : createGrpcTransport({ baseUrl: addr, interceptors: [...(tracer ? [tracingInterceptor(tracer)] : []), ...bearer(auth.serviceCredentials)] }));

  if (hosts("customers") || config.customersAddr) {
    tierSource.lookup = createTierLookup(createClient(CustomerService, transportTo(CustomerService, hosts("customers"), config.customersAddr)));
  }
  if (hosts("customers")) {
    const m = (modules.customers = createCustomersModule({
      db: database.db,
      logger,
      onCustomerSeen: (c) => tiers.record(c.id, { tier: c.tier, version: c.version }),
    }));
    register(CustomerService, m.impl);
    seeders.push(() => m.seedDemo());
    // Admission's VIP roster (tier-cache.ts): loaded now and every TIER_CACHE_TTL_MS, so an unseen customer costs no lookup.
    if (admission) background.push(vipRoster(m, tiers, config.admission, logger));
  }
  // Single-instance background work runs on the leader of its lock only (leader.ts); each its own
  // lock, so services deployed apart on one database each run theirs.
  const leaders: {
    sweeper?: Leadership;
    reconciler?: Leadership;
    inventoryRetention?: Leadership;
    ordersRetention?: Leadership;
    ordersRelay?: Leadership;
    inventoryRelay?: Leadership;
  } = {};
  // Events out: one publisher (its own broker connection) shared by the services' relays.
  const publisher = createEventPublisher(config.events, logger);
  const leadership = (name: string, what: string) => createLeadership(database, { name, what, retryMs: config.leaderRetryMs, logger });
  if (hosts("inventory")) {
    const sweeper = (leaders.sweeper = leadership("order-service:inventory-expiry-sweeper", "the reservation expiry sweeper"));
    // A lock (and its connection) only when there is something to purge.
    const purger =
      config.retention.reservationsHours > 0 || (publisher && config.retention.outboxHours > 0)
        ? (leaders.inventoryRetention = leadership("order-service:inventory-retention", "inventory retention"))
        : undefined;
    const relayLeader = publisher && (leaders.inventoryRelay = leadership("order-service:inventory-relay", "the inventory events relay"));
    const m = (modules.inventory = createInventoryModule({
      db: database.db,
      logger,
      reservationTtlSeconds: config.reservationTtlSeconds,
      sweepIntervalMs: config.reservationSweepMs,
      stockLowThreshold: config.stockLowThreshold,
      isLeader: () => sweeper.isLeader,
      retention: config.retention,
      isRetentionLeader: () => purger?.isLeader === true,
      events: publisher && { publisher, relay: config.events, isLeader: () => relayLeader?.isLeader === true },
    }));
    register(InventoryService, m.impl);
    background.push(m);
    seeders.push(() => m.seedDemo());
  }
  if (hosts("orders")) {
    const reconciler = (leaders.reconciler = leadership("order-service:orders-reconciler", "the order reconciler"));
    const purger =
      config.retention.idempotencyHours > 0 || (publisher && config.retention.outboxHours > 0)
        ? (leaders.ordersRetention = leadership("order-service:orders-retention", "orders retention"))
        : undefined;
    const relayLeader = publisher && (leaders.ordersRelay = leadership("order-service:orders-relay", "the order events relay"));
    const m = (modules.orders = createOrdersModule({
      db: database.db,
      logger,
      inventory: createClient(InventoryService, transportTo(InventoryService, hosts("inventory"), config.inventoryAddr)),
      customers: createClient(CustomerService, transportTo(CustomerService, hosts("customers"), config.customersAddr)),
      defaultDeadlineMs: config.defaultDeadlineMs,
      deadlineMarginMs: config.deadlineMarginMs,
      reconcileIntervalMs: config.reconcileIntervalMs,
      requireCaptureBeforeFulfilment: config.requireCaptureBeforeFulfilment,
      returnWindowDays: config.returnWindowDays,
      isLeader: () => reconciler.isLeader,
      retention: config.retention,
      isRetentionLeader: () => purger?.isLeader === true,
      watch: {
        pollMs: config.watchPollMs,
        maxPerPrincipal: config.watchMaxPerPrincipal,
        maxTotal: config.watchMaxTotal,
        maxLifetimeMs: config.watchMaxLifetimeMs,
      },
      wrapRepository: overrides.wrapOrderRepository,
      listen: database.listen,
      orderCacheSize: config.orderCacheSize,
      events: publisher && { publisher, relay: config.events, isLeader: () => relayLeader?.isLeader === true },
    }));
    register(OrderService, m.impl);
    background.push(m);
  }

  const health = createHealthRegistry(hostedNames);
  registry.register(Health, health.impl);
  registry.seal();
  const served = registry.registrations();
  // The outboxes this instance hosts, by stream, with their relays when a broker is configured.
  const outboxes = [
    ...(modules.orders ? [{ stream: "orders", store: modules.orders.outbox, relay: modules.orders.relay }] : []),
    ...(modules.inventory ? [{ stream: "inventory", store: modules.inventory.outbox, relay: modules.inventory.relay }] : []),
  ];
  if (metrics) {
    const orders = modules.orders;
    addDatabaseHistograms(metrics, database);
    observe(metrics.meter, {
      pool: database.gate && (() => database.gate!.stats()),
      admission: admission && (() => admission.gate.stats()),
      rateLimited: rateLimiter && (() => ({ refused: rateLimiter.refused(), tarpitted: rateLimiter.tarpitted() })),
      watches: orders && (() => orders.watches.stats()),
      orderCache: orders && (() => orders.orderCache),
      ordersSettled: orders && (() => orders.settledBy),
      ordersCreated: orders && (() => orders.created),
      reservationsExpired: modules.inventory && (() => modules.inventory!.expired),
      rowsPurged: (orders || modules.inventory) && (() => ({ ...orders?.retention.purged, ...modules.inventory?.retention.purged })),
      stockShortages: modules.inventory && (() => modules.inventory!.shortages),
      events: outboxes.map(({ stream, store, relay }) => ({ stream, relay: relay && (() => relay.stats()), backlog: () => store.backlog() })),
    });
    const relaying = outboxes.filter((o) => o.relay);
    if (relaying.length > 0) {
      metrics.addHistogram({
        name: "events_publish_lag_seconds",
        description: "Commit → on the broker, per event this instance's relays published.",
        unit: "s",
        read: () => relaying.map(({ stream, relay }) => [{ stream }, relay!.stats().lag]),
      });
    }
  }
  const monitor = startHealthMonitor(health, () => database.ping(), 2000, logger);

  const conn = config.connections;
  const limiter = createConnectionLimiter(conn.maxConnections, logger);
  const grpcServer = createGrpcServer(served, {
    maxReceiveMessageBytes: config.maxReceiveMessageBytes,
    maxHeaderBytes: config.maxHeaderBytes,
    idleTimeoutMs: conn.idleTimeoutMs,
    maxConcurrentStreams: conn.maxConcurrentStreams,
  });
  if (config.grpcReflection) addReflection(grpcServer, served.map((r) => r.service));
  const grpcFront = createGrpcFront(grpcServer, limiter);
  const httpServer = createHttpServer(
    createHttpHandler(served, {
      maxReceiveMessageBytes: config.maxReceiveMessageBytes,
      ready: () => health.status("") === ServingStatus.SERVING,
      cors: config.cors,
      reflection: config.grpcReflection,
      readiness: () => ({ events: eventsReadiness(outboxes) }),
      metrics: metrics && {
        serve: metrics.serve,
        allowed: config.metrics.public ? () => true : (authorization) => metricsReader(auth.authenticator, authorization),
      },
      events:
        outboxes.length > 0
          ? createEventsEndpoint(Object.fromEntries(outboxes.map((o) => [o.stream, o.store])), (authorization) => metricsReader(auth.authenticator, authorization))
          : undefined,
      pages: [createApiDocs(), createWebConsole({ dir: overrides.webConsoleDir, demoIdentities: createDemoIdentities(config, auth) })],
    }),
    { maxHeaderBytes: config.maxHeaderBytes, ...conn, limiter },
  );

  return {
    database,
    auth,
    modules,
    transport,
    admission,
    tiers,
    leaders,
    async start() {
      await redis?.connect();
      if (config.seedDemoData) for (const seed of seeders) await seed();
      await monitor.checkNow();
      await Promise.all(Object.values(leaders).map((l) => l.start()));
      background.forEach((b) => b.start());
      const grpcPort = await grpcFront.listen(config.host, config.grpcPort);
      const httpPort = await httpServer.listen(config.host, config.httpPort);
      return { grpcPort, httpPort };
    },
    /**
     * The drain (README "Connections and shutdown"): NOT_SERVING first, then
     * server streams end (SHUTTING_DOWN) and both listeners stop accepting;
     * the calls in flight get until SHUTDOWN_GRACE_MS to be answered, then
     * what is left is cancelled and its connections cut. Background work is
     * told to stop at once and is not waited for past the grace period.
     */
    async close() {
      const graceEnds = Date.now() + config.shutdownGraceMs;
      monitor.stop();
      health.setAll(ServingStatus.NOT_SERVING);
      await new Promise((resolve) => setImmediate(resolve)); // health watchers are sent NOT_SERVING before their streams end
      shutdown.endStreams();
      health.close();
      await modules.orders?.watches.close(); // open watches end SHUTTING_DOWN before the servers stop
      const stopped = Promise.all(background.map((b) => b.stop()));
      await Promise.all([grpcFront.stopAccepting(), httpServer.stopAccepting()]);
      const drained = Promise.all([drainGrpc(grpcServer), grpcFront.allClosed(), httpServer.drain()]);
      if (!(await by(drained, graceEnds))) {
        shutdown.cancelCalls();
        await new Promise((resolve) => setImmediate(resolve)); // a call that heeds its signal is answered before the cut
        grpcServer.forceShutdown();
        grpcFront.destroyAll();
      }
      httpServer.destroy();
      if (!(await by(stopped, graceEnds))) logger.warn("background work still running at the end of the grace period; closing the database under it");
      await Promise.all(Object.values(leaders).map((l) => l.stop())); // handed over: another instance leads at its next try
      await redis?.close();
      await publisher?.close();
      await metrics?.shutdown();
      if (!overrides.database) await database.close();
    },
  };
}

/** /readyz's word on events: per relaying stream, whether its broker answers and how old the oldest waiting event is. */
function eventsReadiness(outboxes: readonly { stream: string; relay: OutboxRelay | undefined }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { stream, relay } of outboxes) {
    if (!relay) continue;
    const s = relay.stats();
    out[stream] = { brokerUp: s.brokerUp, oldestWaitingSeconds: s.oldestWaitingMs / 1000, published: s.published, deadLettered: s.deadLettered };
  }
  return out;
}

/** Who may scrape /metrics without METRICS_PUBLIC, and read /events: admins and services (a Prometheus with a service token). */
async function metricsReader(authenticator: Authenticator, authorization: string | null): Promise<boolean> {
  try {
    const p = await authenticator.principalOf(authorization);
    return p.role === "admin" || p.role === "service";
  } catch {
    return false;
  }
}

/** grpc-js's graceful half: GOAWAY to every session, resolved once all have closed. */
function drainGrpc(server: ReturnType<typeof createGrpcServer>): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

/** Whether `work` settles before the epoch-ms `deadline`. */
async function by(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), false)));
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reloads the VIP roster into the tier cache now and every `tierCacheTtlMs`; a failed load keeps the last one. */
function vipRoster(m: CustomersModule, tiers: TierCache, o: Config["admission"], logger: Logger): Background {
  return createPeriodic(async () => tiers.setRoster(await m.vipRoster(o.tierCacheSize + 1)), {
    what: "VIP roster load",
    intervalMs: o.tierCacheTtlMs,
    logger,
    runAtStart: true,
    onError: (err) => logger.warn({ err }, "could not load the VIP roster: tiers are looked up meanwhile"),
  });
}
