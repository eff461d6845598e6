/**
 * The consumer example as a command: prints every order event it handles,
 * one line each, until Ctrl-C (README.md next to this file).
 *
 *   npx tsx examples/redis-consumer/main.ts --redis redis://127.0.0.1:6379 \
 *     --prefix events: --group billing --consumer c1 [--from 0]
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { FulfilmentStatus, OrderStatus, PaymentEventKind, PaymentStatus, ShipmentStatus } from "../../gen/orders/v1/order_service_pb.js";
import { createOrderEventsConsumer, type OrderEvent } from "./consumer.js";

const { values: args } = parseArgs({
  options: {
    redis: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
    prefix: { type: "string", default: process.env.EVENTS_REDIS_PREFIX ?? "events:" },
    group: { type: "string", default: "example" },
    consumer: { type: "string", default: `${hostname()}-${process.pid}` },
    from: { type: "string", default: "$" },
    "claim-idle-ms": { type: "string", default: "60000" },
    "block-ms": { type: "string", default: "5000" },
    batch: { type: "string", default: "50" },
  },
});
if (args.from !== "$" && args.from !== "0") throw new Error(`--from is "$" (new events only) or "0" (all the stream holds), not "${args.from}"`);

/** One line: when, what, which order and version, and the gist of the change. */
function describe(e: OrderEvent): string {
  const d = e.data;
  let gist = "";
  switch (d.$typeName) {
    case "orders.v1.OrderCreated":
      gist = `customer=${d.order?.customerId} lines=${d.order?.lines.length}`;
      break;
    case "orders.v1.OrderStatusChanged":
      gist = `status=${OrderStatus[d.order?.status ?? 0]}`;
      break;
    case "orders.v1.OrderShippingInfoChanged":
      gist = `carrier=${d.order?.shippingInfo?.carrier} tracking=${d.order?.shippingInfo?.trackingNumber}`;
      break;
    case "orders.v1.OrderCancelled":
      gist = `reason=${JSON.stringify(d.changes[0]?.reason ?? "")} returned=${d.stockReturned.reduce((n, s) => n + s.quantity, 0)}`;
      break;
    case "orders.v1.OrderDeleted":
      gist = `customer=${d.customerId}`;
      break;
    case "orders.v1.OrderPaymentReported":
      gist = `payment=${PaymentStatus[d.order?.payment?.status ?? 0]} ${PaymentEventKind[d.kind]} ${d.amount?.amountMinor ?? ""} ${d.amount?.currencyCode ?? ""}`;
      break;
    case "orders.v1.OrderShipmentChanged":
      gist = `fulfilment=${FulfilmentStatus[d.order?.fulfilmentStatus ?? 0]} ${d.shipments.map((s) => `${s.id.slice(0, 8)}:${ShipmentStatus[s.status]}`).join(" ")}`;
      break;
    case "orders.v1.OrderUnshippedCancelled":
      gist = `status=${OrderStatus[d.order?.status ?? 0]} returned=${d.stockReturned.reduce((n, s) => n + s.quantity, 0)}`;
      break;
    case "orders.v1.OrderRefundDue":
      gist = `refund due=${d.amount?.amountMinor} ${d.amount?.currencyCode} reason=${JSON.stringify(d.reason)}`;
      break;
  }
  return `${e.time.toISOString()} ${e.type.replace("orders.v1.", "").padEnd(24)} order=${e.subject} v${e.version} ${gist} id=${e.id}${e.redelivered ? " (redelivered)" : ""}`;
}

// While Redis is down a command fails within about a second (one retry, reconnects at most 1 s apart):
// the consumer warns and retries, and Ctrl-C stops it within a couple of seconds.
const redis = new Redis(args.redis, { protocol: 2, maxRetriesPerRequest: 1, retryStrategy: (attempt) => Math.min(attempt * 100, 1000) });
redis.on("error", () => undefined); // the consumer reports failed reads itself
const stream = `${args.prefix}orders`;
const consumer = createOrderEventsConsumer({
  redis,
  stream,
  group: args.group,
  consumer: args.consumer,
  startFrom: args.from,
  claimIdleMs: Number(args["claim-idle-ms"]),
  blockMs: Number(args["block-ms"]),
  batch: Number(args.batch),
  handle: (event) => void process.stdout.write(`${describe(event)}\n`),
});

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
process.stderr.write(`consuming ${stream} as ${args.group}/${args.consumer} (Ctrl-C stops)\n`);
await consumer.run(stop.signal);
process.stderr.write(`stopped: ${JSON.stringify(consumer.stats)}\n`);
redis.disconnect();
