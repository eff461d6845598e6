/**
 * A private redis-server that keeps what it acknowledged across a SIGKILL:
 * append-only file, fsync on every write, in a temporary directory. A test
 * kills it (the broker gone mid-write, connections reset) and starts it
 * again on the same port and directory, where it loads its data back — so
 * what a relay published before the outage is still there afterwards, and a
 * comparison with the outbox can tell an event lost from one never sent.
 * (redis.ts `startRedis` keeps nothing: after its restart a stream is empty.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, pings, redisServerPath, type PrivateRedis } from "./redis.js";

export async function startDurableRedis(): Promise<PrivateRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error("redis-server is not installed");
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "durable-redis-"));
  let child: ChildProcess | undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"];
  const launch = async () => {
    child = spawn(bin, args, { stdio: "ignore" });
    const end = Date.now() + 15_000;
    while (!(await pings(url, 500))) {
      if (Date.now() > end) throw new Error(`timed out waiting for redis-server on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await gone;
  };
  await launch();
  return {
    url,
    port,
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
