/**
 * A replicated broker, for real (README "Events"): a 3-node NATS cluster on
 * loopback, the app publishing to a stream with 3 replicas under CreateOrder
 * load (several customers and products; a third of the orders cancelled, so
 * an order has 2 or 3 events). In the middle of the load the stream's leader
 * is killed (SIGKILL), the load goes on, and the node is started again.
 * Then every outbox row's event is on the stream (none lost; repeats of an
 * event counted and reported, never different from the first copy), each
 * order's events come in version order, nothing is there that is not an
 * outbox row's event, and events committed while the node was down reached
 * the stream while it was still down: publishing went on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsNames } from "../../src/platform/events/nats-publisher.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";
import { ADMIN, customer } from "../support/auth.js";
import { clientsOf, transportOf, type Clients } from "../support/clients.js";
import { auditStream, drainedSnapshot, outboxRows } from "../support/event-audit.js";
import { natsManager, natsServerPath, readEvents, startNatsCluster, uniqueNatsPrefix, type NatsCluster } from "../support/nats.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";

const bin = natsServerPath();
if (!bin) process.stdout.write("skipping the NATS cluster test: no nats-server binary (/usr/sbin/nats-server or on PATH)\n");

const prefix = uniqueNatsPrefix();
const names = natsNames("orders", prefix);
let cluster: NatsCluster | undefined;
let stack: TestStack | undefined;

beforeAll(async () => {
  if (!bin) return;
  cluster = await startNatsCluster(3);
  const base = await testConfig();
  stack = await startTestStack({
    config: { events: { ...base.events, broker: "nats", natsUrl: cluster.url, natsReplicas: 3, natsPrefix: prefix, pollMs: 50 } },
  });
}, 90_000);
afterAll(async () => {
  await stack?.close();
  await cluster?.stop();
}, 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Load {
  stop(): Promise<void>;
  readonly orders: number;
  readonly cancelled: number;
  readonly errors: string[];
}

/** `workers` loops creating orders (every third one then cancelled) until stopped. */
function startLoad(s: TestStack, customers: readonly string[], products: readonly string[], workers: number): Load {
  let running = true;
  const counts = { orders: 0, cancelled: 0, errors: [] as string[] };
  const clients = new Map<string, Clients>(customers.map((c) => [c, clientsOf(transportOf(s, "grpc", customer(c)))]));
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const customerId = customers[(w + i) % customers.length];
      const productId = products[(w * 7 + i) % products.length];
      const mine = clients.get(customerId)!;
      try {
        const { order } = await mine.orders.createOrder({ customerId, requestId: `load-${w}-${i}-${Date.now()}`, items: [{ productId, quantity: 1 }] });
        counts.orders++;
        if (i % 3 === 0) {
          await mine.orders.cancelOrder({ orderId: order!.id, reason: "load" });
          counts.cancelled++;
        }
      } catch (err) {
        counts.errors.push((err as Error).message);
        await sleep(50);
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    get orders() {
      return counts.orders;
    },
    get cancelled() {
      return counts.cancelled;
    },
    errors: counts.errors,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe.skipIf(!bin)("order events on a 3-node NATS JetStream cluster", () => {
  it("loses no event and keeps each order's order when the stream leader is killed mid-load and restarted", async () => {
    const s = stack!;
    const c = cluster!;
    const admin = clientsOf(transportOf(s, "grpc", ADMIN));
    const products = await Promise.all(Array.from({ length: 4 }, () => newProduct(admin, 100_000)));
    const customers = await Promise.all(Array.from({ length: 6 }, () => newCustomer(admin)));
    const m = await natsManager(c.url);
    try {
      const load = startLoad(s, customers, products, 6);
      await sleep(3000);

      // The stream is established (created by the app with 3 replicas, all current, events flowing); kill its leader.
      const established = async () => {
        const i = await m.jsm.streams.info(names.stream).catch(() => undefined);
        return i !== undefined && i.state.last_seq >= 50 && (i.cluster?.replicas ?? []).length === 2 && i.cluster!.replicas!.every((r) => r.current);
      };
      for (let end = Date.now() + 20_000; !(await established()) && Date.now() < end; ) await sleep(200);
      const info = await m.jsm.streams.info(names.stream);
      expect(info.config.num_replicas).toBe(3);
      const leader = c.nodes.find((n) => n.name === info.cluster?.leader) ?? c.nodes[0];
      const seqAtKill = info.state.last_seq;
      const killedAt = Date.now();
      await leader.kill();
      // JetStream elects a new stream leader within seconds (about 5 on nats-server 2.9); the node stays down well past that.
      await sleep(15_000);
      const beforeRestart = await m.jsm.streams.info(names.stream);
      const restartedAt = Date.now();
      await leader.restart();
      const downMs = Date.now() - killedAt;
      await sleep(3000);
      await load.stop();

      // Everything committed reaches the stream; then read it whole.
      const { rows: published, waitedMs } = await drainedSnapshot(s.database.db, 30_000);
      const entries = await readEvents(c.url, "orders", prefix);
      const rows = await outboxRows(s.database.db);
      const audit = auditStream(published, entries, rows);

      const committedWhileDown = rows.filter((r) => r.createTime.getTime() > killedAt && r.createTime.getTime() < restartedAt);
      const publishedWhileDown = committedWhileDown.filter((r) => r.publishTime !== null && r.publishTime.getTime() < restartedAt);
      const after = await m.jsm.streams.info(names.stream);
      process.stdout.write(
        `NATS cluster: ${load.orders} orders (${load.cancelled} cancelled), ${rows.length} outbox rows, ${audit.entries} messages = ${audit.events} events + ${audit.duplicates} duplicates; ` +
          `leader ${leader.name} down ${downMs} ms (${seqAtKill} → ${beforeRestart.state.last_seq} stored meanwhile, leader then ${beforeRestart.cluster?.leader}); ` +
          `${publishedWhileDown.length} of ${committedWhileDown.length} events committed while it was down published before its restart; drained ${waitedMs} ms after the load; ` +
          `RPC errors ${load.errors.length}\n`,
      );

      expect(load.errors).toEqual([]);
      expect(load.orders).toBeGreaterThan(20);
      expect(audit.lost).toEqual([]);
      expect(audit.foreign).toEqual([]);
      expect(audit.mismatched).toEqual([]);
      expect(audit.badDuplicates).toEqual([]);
      expect(audit.outOfOrder).toEqual([]);
      expect(audit.dead).toEqual([]);
      expect(audit.events).toBe(rows.length);
      // Publishing went on while the node was down.
      expect(beforeRestart.state.last_seq).toBeGreaterThan(seqAtKill);
      expect(committedWhileDown.length).toBeGreaterThan(0);
      expect(publishedWhileDown.length).toBeGreaterThan(0);
      expect(after.config.num_replicas).toBe(3);
    } finally {
      await m.close();
    }
  }, 110_000);
});
