/**
 * Measures what OrderService pays per dependency call when co-hosted: the
 * direct in-process transport (src/platform/rpc/in-process-transport.ts, the
 * default), Connect's in-memory router transport, and a gRPC client over
 * loopback to the same process. Prints calls/s and mean latency for
 * sequential and 32-way concurrent calls of GetCustomer (one indexed read,
 * PGlite) and of grpc.health.v1 Check (no I/O: the transport's own cost).
 *
 *   npx tsx scripts/measure-inprocess-transport.ts
 */
import { createClient, createContextValues, createRouterTransport, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CustomerService } from "../gen/customers/v1/customer_service_pb.js";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createCustomersModule } from "../src/customers/module.js";
import { createDatabase } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";
import { createValidator } from "@bufbuild/protovalidate";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ASSERTED_PRINCIPAL } from "../src/platform/auth/authenticator.js";
import { ORDERS_SERVICE } from "../src/platform/auth/setup.js";
import { createHealthRegistry, ServingStatus } from "../src/platform/health.js";
import { createInProcessTransport } from "../src/platform/rpc/in-process-transport.js";
import { createServiceRegistry } from "../src/platform/rpc/service-registry.js";

const logger = createLogger("silent");
const database = await createDatabase({});
await database.migrate();
const config = { ...loadConfig({}), host: "127.0.0.1", grpcPort: 0, httpPort: 0, seedDemoData: true, logLevel: "silent", migrateOnStart: false };
const app = await createApp(config, logger, { database });
const { grpcPort } = await app.start();

// The same wrapping as the app's, in a registry of its own, so its registrations can also go on a router.
const registry = createServiceRegistry({ validator: createValidator(), logger, defaultDeadlineMs: 5000, authenticator: app.auth.authenticator });
const health = createHealthRegistry([]);
health.setAll(ServingStatus.SERVING);
registry.register(CustomerService, createCustomersModule({ db: database.db, logger }).impl);
registry.register(Health, health.impl);
registry.seal();
const router = createRouterTransport(({ service }) => {
  for (const r of registry.registrations()) service(r.service, r.impl as never);
});
// As the order module calls: as service:orders, asserted in process, a (dev-key) service token over the network.
const asOrders = () => createContextValues().set(ASSERTED_PRINCIPAL, ORDERS_SERVICE);
const token = await app.auth.devSigner!.sign(ORDERS_SERVICE, 3600);
const transports: Record<string, Transport> = {
  "in-process direct": createInProcessTransport(registry, { contextValues: asOrders }),
  "in-process router": {
    unary: (m, s, t, h, i) => router.unary(m, s, t, h, i, asOrders()),
    stream: (m, s, t, h, i) => router.stream(m, s, t, h, i, asOrders()),
  },
  "gRPC over loopback": createGrpcTransport({
    baseUrl: `http://127.0.0.1:${grpcPort}`,
    interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
  }),
};
const healthTransports = transports;
const customerId = "11111111-1111-4111-8111-111111111111";

async function measure(label: string, n: number, call: () => Promise<unknown>) {
  for (let i = 0; i < 500; i++) await call(); // warm-up
  for (const concurrency of [1, 32]) {
    const start = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) await call();
      }),
    );
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${label.padEnd(40)} concurrency ${String(concurrency).padStart(2)}: ${(n / secs).toFixed(0).padStart(6)} calls/s, ${((secs / n) * 1000 * concurrency).toFixed(3)} ms mean`);
  }
}

for (const [name, transport] of Object.entries(healthTransports)) {
  const client = createClient(Health, transport);
  await measure(`Health.Check, ${name}`, 20000, () => client.check({ service: "" }));
}
for (const [name, transport] of Object.entries(transports)) {
  const client = createClient(CustomerService, transport);
  await measure(`GetCustomer, ${name}`, 4000, () => client.getCustomer({ customerId }));
}
await app.close();
await database.close();
