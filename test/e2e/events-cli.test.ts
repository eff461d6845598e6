/**
 * `npm run events` against a running app: `tail` shows the README tour's
 * changes as they happen — from the outbox through /events when no broker
 * is configured, from the Redis stream when one is — decoded with the
 * contract's types; `dead-letters` and `replay` handle a dead letter; and
 * /events wants an admin or service token.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/platform/db.js";
import { ADMIN, authHeaders, customer, tokenFor } from "../support/auth.js";
import { clientsOf, transportOf } from "../support/clients.js";
import { sharedRedisUrl, uniquePrefix } from "../support/redis.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";
import { newCustomer, newProduct } from "../integration/orders/harness.js";

const redisUrl = await sharedRedisUrl();
const prefix = uniquePrefix("events-cli");
const running: ChildProcess[] = [];

afterEach(() => {
  for (const c of running.splice(0)) c.kill("SIGKILL");
});

/** The CLI running: its output so far, a wait for some of it, and its end. */
function cli(args: string[], env: Record<string, string>) {
  const { NODE_OPTIONS: _no, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/events.ts", ...args], { env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  const listeners = new Set<() => void>();
  const read = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on("data", read);
  child.stderr!.on("data", read);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return {
    /** Resolves with the output once it matches `pattern`. */
    waitFor: (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(out);
        };
        const timer = setTimeout(() => reject(new Error(`events ${args.join(" ")} did not print ${pattern} in time:\n${out}`)), 90_000);
        listeners.add(check);
        check();
        void exited.then(() => setTimeout(() => reject(new Error(`events ${args.join(" ")} ended without printing ${pattern}:\n${out}`)), 100));
      }),
    /** Resolves with the output and exit code once it ends. */
    done: async () => ({ code: await exited, out }),
  };
}

async function placeOrder(stack: TestStack): Promise<string> {
  const admin = clientsOf(transportOf(stack, "grpc", ADMIN));
  const [productId, customerId] = [await newProduct(admin, 5), await newCustomer(admin)];
  const mine = clientsOf(transportOf(stack, "grpc", customer(customerId)));
  const { order } = await mine.orders.createOrder({ customerId, requestId: `cli-${Date.now()}`, items: [{ productId, quantity: 1 }] });
  return order!.id;
}

describe("without a broker: the outbox through /events", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  it("wants an admin or service token", async () => {
    expect((await fetch(`${stack.httpUrl}/events`)).status).toBe(401);
    expect((await fetch(`${stack.httpUrl}/events`, { headers: await authHeaders(customer("11111111-1111-4111-8111-111111111111")) })).status).toBe(401);
    expect((await fetch(`${stack.httpUrl}/events`, { headers: await authHeaders(ADMIN) })).status).toBe(200);
  });

  it("tails the events as they happen, decoded", { timeout: 180_000 }, async () => {
    const env = { EVENTS_BROKER: "none", REDIS_URL: "", NATS_URL: "" };
    const token = await tokenFor(ADMIN);
    const tail = cli(["tail", "--from", "now", "--url", stack.httpUrl, "--token", token], env);
    await tail.waitFor(/tailing the outbox/); // it has found the end of the outbox: what follows is new
    const id = await placeOrder(stack);
    const out = await tail.waitFor(new RegExp(`OrderStatusChanged  ${id}`));
    expect(out).toMatch(new RegExp(`orders\\.v1\\.OrderCreated  ${id}  v1`));
    expect(out).toMatch(new RegExp(`orders\\.v1\\.OrderStatusChanged  ${id}  v2`));
    expect(out).toContain('"toStatus":"ORDER_STATUS_CONFIRMED"');
  });

  it("lists a dead letter and puts it back in the queue", { timeout: 180_000 }, async () => {
    const id = await placeOrder(stack);
    const [{ id: eventId }] = rowsOf<{ id: string }>(
      await stack.database.db.execute(
        sql`update orders.outbox set dead_time = now(), attempts = 5, last_error = 'test' where aggregate_id = ${id}::uuid and version = 1 returning event_id::text as id`,
      ),
    );
    const token = await tokenFor(ADMIN);
    const env = { EVENTS_BROKER: "none", REDIS_URL: "", NATS_URL: "" };
    const listed = await cli(["dead-letters", "--url", stack.httpUrl, "--token", token], env).done();
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(eventId);
    const replayed = await cli(["replay", eventId, "--url", stack.httpUrl, "--token", token], env).done();
    expect(replayed.out).toContain(`"replayed":"${eventId}"`);
    expect((await cli(["dead-letters", "--url", stack.httpUrl, "--token", token], env).done()).out).not.toContain(eventId);
  });
});

describe.skipIf(!redisUrl)("with Redis: the stream", () => {
  let stack: TestStack;
  beforeAll(async () => {
    const base = await testConfig();
    stack = await startTestStack({ config: { events: { ...base.events, broker: "redis", redisUrl: redisUrl!, redisPrefix: prefix, pollMs: 50 } } });
  });
  afterAll(() => stack?.close());

  it("tails the stream from the start, one type only", { timeout: 180_000 }, async () => {
    const id = await placeOrder(stack);
    const out = await cli(["tail", "--from", "start", "--type", "OrderCreated"], { REDIS_URL: redisUrl!, EVENTS_REDIS_PREFIX: prefix }).waitFor(new RegExp(id));
    expect(out).toMatch(new RegExp(`orders\\.v1\\.OrderCreated  ${id}  v1`));
    expect(out).not.toContain("OrderStatusChanged");
  });
});
