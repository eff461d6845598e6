/**
 * What recording one call costs (BENCHMARKS.md "Metrics"): metrics.ts's
 * `started` + `handled` as wrapService calls them, 200,000 times over a
 * spread of methods, codes and transports, against an empty loop; and one
 * scrape of the result.
 *
 *   npx tsx scripts/measure-metrics.ts
 */
import { Code } from "@connectrpc/connect";
import { CustomerService } from "../gen/customers/v1/customer_service_pb.js";
import { InventoryService } from "../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../gen/orders/v1/order_service_pb.js";
import { createMetrics } from "../src/platform/metrics.js";

const CALLS = 200_000;
const methods = [...OrderService.methods, ...InventoryService.methods, ...CustomerService.methods];
const transports = ["grpc", "connect", "grpc-web", "in-process"];
const codes = [0, 0, 0, 0, 0, 0, 0, Code.NotFound, Code.InvalidArgument, Code.Unavailable];

function run(record: boolean): { wallUs: number; cpuUs: number } {
  const metrics = createMetrics();
  const per = methods.map((m) => metrics.forMethod(m));
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const m = per[i % per.length];
    const transport = transports[i % 4];
    const began = performance.now();
    if (record) {
      m.started(transport);
      m.handled(transport, codes[i % codes.length], (performance.now() - began) / 1000);
    } else {
      sink += (performance.now() - began) / 1000 + transport.length + codes[i % codes.length];
    }
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  void metrics.shutdown();
  return { wallUs: (wall * 1000) / CALLS, cpuUs: (cpu.user + cpu.system) / CALLS };
}

for (let round = 1; round <= 3; round++) {
  const base = run(false);
  const on = run(true);
  console.log(
    `round ${round}: empty loop ${base.wallUs.toFixed(3)} µs/call; started+handled ${on.wallUs.toFixed(3)} µs/call wall, ${on.cpuUs.toFixed(3)} µs CPU ` +
      `→ metrics cost ${(on.wallUs - base.wallUs).toFixed(3)} µs per call`,
  );
}

// One scrape of a populated provider (every method × transport × a few codes).
const metrics = createMetrics();
for (const m of methods) for (const t of transports) for (const c of [0, Code.NotFound, Code.Unavailable]) metrics.forMethod(m).handled(t, c, 0.003);
const http = await import("node:http");
const server = http.createServer((req, res) => metrics.serve(req, res)).listen(0);
await new Promise((r) => server.once("listening", r));
const port = (server.address() as { port: number }).port;
const t0 = performance.now();
const text = await (await fetch(`http://127.0.0.1:${port}/`)).text();
console.log(`scrape: ${(performance.now() - t0).toFixed(1)} ms for ${text.split("\n").length} lines (${(text.length / 1024).toFixed(0)} KB)`);
server.close();
await metrics.shutdown();
