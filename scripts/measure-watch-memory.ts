/**
 * What an open WatchOrder costs the server: memory per watch and database
 * reads while idle and per change. The whole app runs in this process on
 * in-memory PGlite (AUTH_DISABLED: no tokens); the watches are opened by a
 * worker thread over ONE HTTP/2 connection to the gRPC port, so the main
 * thread's heap is the server's alone (RSS counts both threads).
 *
 *   node --expose-gc --import tsx scripts/measure-watch-memory.ts [--watches 5000] [--orders 50]
 */
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CustomerService } from "../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";

interface Job {
  readonly module: string;
  readonly baseUrl: string;
  readonly orderIds: string[];
  readonly watches: number;
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function settledMemory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/** The worker: opens the watches, says so, cancels them when told. */
async function watcher(job: Job) {
  const orders = createClient(OrderService, createGrpcTransport({ baseUrl: job.baseUrl }));
  const ac = new AbortController();
  setMaxListeners(job.watches + 10, ac.signal);
  let opened = 0;
  for (let i = 0; i < job.watches; i++) {
    void (async () => {
      let first = true;
      try {
        for await (const _ of orders.watchOrder({ orderId: job.orderIds[i % job.orderIds.length] }, { signal: ac.signal })) {
          if (first && ++opened === job.watches) parentPort!.postMessage("open");
          first = false;
        }
      } catch (err) {
        if (!ac.signal.aborted) process.stderr.write(`watch failed: ${String(err)}\n`);
      }
    })();
  }
  parentPort!.once("message", () => ac.abort());
}

/** The hub alone: `watches` slots over `orders` topics with their lifetime timers, no transport at all. */
async function hubBytesPerWatch(watches: number, orders: number): Promise<number> {
  const { createWatchHub } = await import("../src/orders/infra/watch-hub.js");
  const { createLogger } = await import("../src/platform/logger.js");
  const order = { version: 1 } as import("../src/orders/domain/order.js").Order; // only its version is looked at
  const hub = createWatchHub({ read: async () => order, maxPerOwner: watches, maxTotal: watches, pollMs: 60_000, logger: createLogger("silent") });
  hub.listening();
  const before = await settledMemory();
  const open = Array.from({ length: watches }, (_, i) => {
    const w = hub.open("customer:x", `order-${i % orders}`);
    return { w, timer: setTimeout(() => undefined, 60_000) };
  });
  await Promise.all(open.map(({ w }) => w.next()));
  const after = await settledMemory();
  for (const { w, timer } of open) {
    clearTimeout(timer);
    w.close();
  }
  await hub.close();
  return Math.round((after.heap - before.heap) / watches);
}

async function main() {
  const { values } = parseArgs({ options: { watches: { type: "string", default: "5000" }, orders: { type: "string", default: "50" } } });
  const watches = Number(values.watches);
  const orderCount = Number(values.orders);
  const [{ createApp }, { loadConfig }, { createDatabase }, { createLogger }] = await Promise.all([
    import("../src/app.js"),
    import("../src/config.js"),
    import("../src/platform/db.js"),
    import("../src/platform/logger.js"),
  ]);
  const config = loadConfig({
    AUTH_DISABLED: "true",
    HOST: "127.0.0.1",
    GRPC_PORT: "0",
    HTTP_PORT: "0",
    SEED_DEMO_DATA: "false",
    LOG_LEVEL: "silent",
    WATCH_MAX_PER_PRINCIPAL: String(watches),
    WATCH_MAX_TOTAL: String(watches),
  });
  const database = await createDatabase({});
  const app = await createApp(config, createLogger("silent"), { database });
  const { grpcPort } = await app.start();
  const hub = app.modules.orders!.watches;
  const inventory = createClient(InventoryService, app.transport);
  const customers = createClient(CustomerService, app.transport);
  const orders = createClient(OrderService, app.transport);
  const product = (await inventory.createProduct({ sku: "w-1", name: "Widget", unitPrice: { currencyCode: "EUR", amountMinor: 100n }, initialStock: BigInt(orderCount) })).product!;
  const customer = (await customers.createCustomer({ email: "w@example.com", displayName: "Watcher" })).customer!;
  const orderIds: string[] = [];
  for (let i = 0; i < orderCount; i++) {
    const { order } = await orders.createOrder({ customerId: customer.id, requestId: `w-${i}`, items: [{ productId: product.id, quantity: 1 }] });
    orderIds.push(order!.id);
  }
  const hubAlone = await hubBytesPerWatch(watches, orderCount);
  const before = await settledMemory();
  process.stderr.write("orders made; opening watches\n");

  const job: Job = { module: import.meta.url, baseUrl: `http://127.0.0.1:${grpcPort}`, orderIds, watches };
  const entry = fileURLToPath(new URL("../bench/lib/worker-entry.mjs", import.meta.url));
  const worker = new Worker(entry, { workerData: job });
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  const openMs = Date.now() - t0;
  const open = await settledMemory();
  const readsOpen = hub.stats().reads;

  await sleep(5000);
  const idleReads = hub.stats().reads - readsOpen;
  const r0 = hub.stats().reads;
  await orders.updateShippingInfo({ orderId: orderIds[0], shippingInfo: { carrier: "UPS", trackingNumber: "1Z" } });
  await sleep(1000);
  const changeReads = hub.stats().reads - r0;

  worker.postMessage("cancel");
  while (hub.stats().watches > 0) await sleep(50);
  await worker.terminate();
  const after = await settledMemory();
  await app.close();
  await database.close();

  print(`watches: ${watches} over ${orderCount} orders, one HTTP/2 connection (opened in ${openMs} ms)`);
  print(`server heap: ${mb(before.heap)} → ${mb(open.heap)}: ${Math.round((open.heap - before.heap) / watches)} bytes per watch`);
  print(`process RSS (server + client thread): ${mb(before.rss)} → ${mb(open.rss)}: ${Math.round((open.rss - before.rss) / watches)} bytes per watch`);
  print(`after all were cancelled: heap ${mb(after.heap)}, RSS ${mb(after.rss)}`);
  print(`of which the watch hub's own bookkeeping (slot, topic share, lifetime timer): ${hubAlone} bytes per watch`);
  print(`reads to open them: ${readsOpen}; reads over 5 s idle: ${idleReads}; reads for one change of an order with ${watches / orderCount} watchers: ${changeReads}`);
}

if (isMainThread) await main();
else await watcher(workerData as Job);
