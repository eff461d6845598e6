/**
 * Server children: the order service itself (exactly as `npm start` runs it,
 * on ports the kernel picks) and the two ceiling servers. Each resolves once
 * its ports are known; stop() sends SIGTERM and waits for exit (which is when
 * --cpu-prof writes its profile).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Child {
  readonly pid: number;
  readonly grpcPort: number;
  readonly httpPort?: number;
  /** Milliseconds from spawn until it listened (start-up, excluded from profiles). */
  readonly startupMs: number;
  /** Everything the child wrote to stderr so far (for error reports). */
  stderr(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  /** Directory for --cpu-prof output; no profiling when unset. */
  readonly cpuProfDir?: string;
  readonly timeoutMs?: number;
}

/** Environment without OpenTelemetry, npm noise and the caller's AUTH_* settings, so the child runs as configured here. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("OTEL_") || k.startsWith("npm_") || k.startsWith("AUTH_") || k === "DATABASE_URL" || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function start(args: string[], opts: SpawnOptions, parse: (stdout: string) => { grpcPort: number; httpPort?: number } | undefined): Promise<Child> {
  const t0 = performance.now();
  const prof = opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...prof, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(opts.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let started = false;
  let stopping = false;
  // A server dying while measured must be loud: every later row would only count refused connections.
  child.once("exit", (code, signal) => {
    if (started && !stopping) console.error(`bench: ${args.at(-1)} (pid ${child.pid}) exited unexpectedly (${signal ?? `code ${code}`}):\n${err.slice(-4000)}`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start in time:\n${err.slice(-4000)}`));
    }, opts.timeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code} before listening:\n${err.slice(-4000)}`));
    });
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const ports = parse(out);
      if (!ports) return;
      clearTimeout(timer);
      started = true;
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      resolve({
        pid: child.pid!,
        ...ports,
        startupMs: performance.now() - t0,
        stderr: () => err,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          stopping = true;
          child.kill("SIGTERM");
          const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

/**
 * The Node arguments of `npm start`, read from package.json's "start" script
 * (`node <flags> --import ./dist/src/instrumentation.js dist/src/main.js`),
 * after its "prestart" (the build, when dist/ is stale) has run once.
 */
let startArgs: string[] | undefined;
function serviceArgs(): string[] {
  if (startArgs) return startArgs;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> };
  const [cmd, ...args] = pkg.scripts.start!.trim().split(/\s+/);
  if (cmd !== "node" || args.some((a) => /["'$\\]/.test(a))) throw new Error(`package.json "start" is not a plain \`node …\` command: ${pkg.scripts.start}`);
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit"] });
  return (startArgs = args);
}

/** The order service as `npm start` runs it (compiled dist/, with the Node flags of package.json's "start"). */
export function startService(opts: SpawnOptions): Promise<Child> {
  const env = {
    HOST: "127.0.0.1",
    GRPC_PORT: "0",
    HTTP_PORT: "0",
    LOG_LEVEL: "warn",
    SEED_DEMO_DATA: "false",
    MIGRATE_ON_START: "false",
    ...opts.env,
  };
  return start(
    serviceArgs(),
    { timeoutMs: 120_000, ...opts, env },
    (out) => {
      const g = /gRPC:\s+127\.0\.0\.1:(\d+)/.exec(out);
      const h = /Connect\/HTTP:\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      return g && h ? { grpcPort: Number(g[1]), httpPort: Number(h[1]) } : undefined;
    },
  );
}

/** A bench/servers/*.ts child printing {"grpcPort":N[,"httpPort":M]}. */
export function startCeilingServer(file: "plain-grpc-noop" | "stack-noop", opts: SpawnOptions = {}): Promise<Child> {
  return start(["--import", "tsx", `bench/servers/${file}.ts`], opts, (out) => {
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (!line || !out.includes("\n")) return undefined;
    return JSON.parse(line) as { grpcPort: number; httpPort?: number };
  });
}
