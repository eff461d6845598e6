/**
 * NATS for tests. `sharedNatsUrl` is the machine's NATS (with JetStream):
 * NATS_URL when set, else nats://127.0.0.1:4222 when a server answers there
 * (CI starts one), else undefined — and the reason is printed, so a skip is
 * visible. `startNatsCluster` runs a private JetStream cluster of `nats-server`
 * processes on free loopback ports below 32768, each node with its own store
 * directory and cluster port; a node can be killed (SIGKILL) and started
 * again with the same name, ports and store. Streams carry a fresh prefix
 * per test run (`uniqueNatsPrefix`), so runs sharing a server never see each
 * other's events.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "../../src/platform/events/nats-publisher.js";
import { tailNats } from "../../src/platform/events/nats-tail.js";
import { freePort, until as waitUntil } from "./redis.js";

const LOCAL = "nats://127.0.0.1:4222";

/** Connects once (no retries); true when a server answers within `timeoutMs`. */
export async function natsAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const nc = await connect({ servers: url.split(","), timeout: timeoutMs, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

let shared: Promise<string | undefined> | undefined;

export function sharedNatsUrl(): Promise<string | undefined> {
  return (shared ??= (async () => {
    const fromEnv = process.env.NATS_URL;
    if (fromEnv) return fromEnv;
    if (await natsAnswers(LOCAL)) return LOCAL;
    process.stdout.write(`skipping the shared-NATS tests: NATS_URL is unset and no NATS server answers on ${LOCAL}\n`);
    return undefined;
  })());
}

/** A stream prefix (EVENTS_NATS_PREFIX) no other run uses: "t_1a2b3c4d5e6f_". */
export const uniqueNatsPrefix = () => `t_${randomBytes(6).toString("hex")}_`;

/** A JetStream manager on its own connection; `close` ends the connection. */
export async function natsManager(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager; close(): Promise<void> }> {
  const nc = await connect({ servers: url.split(","), maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  return { nc, jsm, close: () => nc.close() };
}

/** Deletes the streams whose names start with `prefix` (case-insensitive), ignoring errors. */
export async function deleteStreams(url: string, prefix: string): Promise<void> {
  const m = await natsManager(url);
  try {
    for await (const name of m.jsm.streams.names()) {
      if (name.toUpperCase().startsWith(prefix.toUpperCase())) await m.jsm.streams.delete(name).catch(() => undefined);
    }
  } finally {
    await m.close();
  }
}

/** One message of an events stream: its sequence, and its CloudEvents attributes with `data` (event-audit.ts's shape). */
export interface NatsEntry {
  readonly entryId: string;
  readonly seq: number;
  readonly fields: Record<string, string>;
}

/** Every event of aggregate stream `stream` ("orders") published so far, oldest first (tailNats from the start). */
export async function readEvents(url: string, stream: string, prefix: string, timeoutMs = 30_000): Promise<NatsEntry[]> {
  const m = await natsManager(url);
  let last: number;
  try {
    last = (await m.jsm.streams.info(natsNames(stream, prefix).stream)).state.last_seq;
  } finally {
    await m.close();
  }
  const out: NatsEntry[] = [];
  if (last === 0) return out;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    await tailNats(
      url,
      stream,
      { from: "start", streamPrefix: prefix },
      (attrs, data, seq) => {
        out.push({ entryId: String(seq), seq, fields: { ...attrs, data } });
        if (seq >= last) ac.abort();
      },
      ac.signal,
    );
  } finally {
    clearTimeout(timer);
  }
  if (out.length === 0 || out[out.length - 1].seq < last) throw new Error(`read ${out.length} events of ${stream}, not up to sequence ${last}, within ${timeoutMs} ms`);
  return out;
}

export const natsServerPath = (): string | undefined => {
  if (existsSync("/usr/sbin/nats-server")) return "/usr/sbin/nats-server";
  const r = spawnSync("which", ["nats-server"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

export interface NatsNode {
  /** The server name (JetStream reports stream leaders by it). */
  readonly name: string;
  readonly url: string;
  readonly running: boolean;
  /** SIGKILL: no shutdown, nothing flushed. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** The same node again (name, ports, store). Resolves once it accepts clients. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Every node's client URL, comma-separated (NATS_URL). */
  readonly url: string;
  /** Stops every node and removes the stores. */
  stop(): Promise<void>;
}

const until = (cond: () => Promise<boolean>, what: string, timeoutMs = 20_000) => waitUntil(cond, what, timeoutMs, 100);

/** A JetStream cluster of `size` nodes on loopback; resolves once it can place a stream on all of them. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const bin = natsServerPath();
  if (!bin) throw new Error("nats-server is not installed");
  const dir = await mkdtemp(path.join(tmpdir(), "nats-cluster-"));
  const clusterName = `test_${randomBytes(4).toString("hex")}`;
  const ports: { client: number; cluster: number }[] = [];
  for (let i = 0; i < size; i++) {
    let client = await freePort();
    let cluster = await freePort();
    while (ports.some((p) => [p.client, p.cluster].includes(client)) || cluster === client) client = await freePort();
    while (ports.some((p) => [p.client, p.cluster].includes(cluster)) || cluster === client) cluster = await freePort();
    ports.push({ client, cluster });
  }
  const children = new Set<ChildProcess>();
  const nodes = ports.map(({ client, cluster }, i) => {
    const name = `n${i + 1}`;
    const url = `nats://127.0.0.1:${client}`;
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p.cluster}`);
    const args = [
      ...["-a", "127.0.0.1", "-p", String(client), "-n", name, "-js", "-sd", path.join(dir, name)],
      ...["--cluster_name", clusterName, "--cluster", `nats://127.0.0.1:${cluster}`, "--routes", routes.join(",")],
      ...["-l", path.join(dir, `${name}.log`)],
    ];
    let child: ChildProcess | undefined;
    const node: NatsNode = {
      name,
      url,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        const c = child;
        child = undefined;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise((r) => c.once("exit", r));
        c.kill("SIGKILL");
        await gone;
      },
      async restart() {
        const c = spawn(bin, args, { stdio: "ignore" });
        child = c;
        children.add(c);
        c.once("exit", () => children.delete(c));
        await until(() => natsAnswers(url, 500), `nats-server ${name} on port ${client}`);
      },
    };
    return node;
  });
  // A test process that dies without its afterAll must not leave servers behind.
  const killOnExit = () => children.forEach((c) => c.kill("SIGKILL"));
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    await Promise.all(nodes.map((n) => n.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.restart()));
    const url = nodes.map((n) => n.url).join(",");
    const m = await natsManager(url);
    try {
      // Ready once a stream with a replica on every node can be placed (a meta leader that knows all peers).
      const probe = `PROBE_${randomBytes(4).toString("hex")}`;
      const placed = () =>
        m.jsm.streams.add({ name: probe, subjects: [`${probe.toLowerCase()}.>`], num_replicas: size }).then(
          () => m.jsm.streams.delete(probe).then(() => true),
          () => false,
        );
      await until(placed, `a JetStream cluster of ${size} nodes`);
    } finally {
      await m.close();
    }
    return { nodes, url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
