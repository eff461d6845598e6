/**
 * The service as its own process, started as `npm run dev` starts it (the
 * OpenTelemetry SDK loaded first by instrumentation.ts), exporting traces
 * to `otlpEndpoint`: embedded database in `dataDir` unless `env` names one,
 * ports chosen by the system, no demo data, one process (WORKERS=1 unless
 * `env` says otherwise). Resolves once it listens.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly grpcUrl: string;
}

export function startServiceProcess(o: { otlpEndpoint: string; dataDir: string; env?: Record<string, string> }): Promise<ServiceProcess> {
  const { DATABASE_URL: _db, NODE_OPTIONS: _no, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "--import", "./src/instrumentation.ts", "src/main.ts"], {
    env: {
      ...inherited,
      OTEL_EXPORTER_OTLP_ENDPOINT: o.otlpEndpoint,
      OTEL_METRICS_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      GRPC_PORT: "0",
      HTTP_PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: o.dataDir,
      SEED_DEMO_DATA: "false",
      LOG_LEVEL: "warn",
      // One process, as before WORKERS defaulted to the cores on Postgres (workers.test.ts tests more).
      WORKERS: "1",
      ...o.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 90_000);
    const read = (d: Buffer) => {
      out += d.toString();
      const m = /gRPC:\s+127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, grpcUrl: `http://127.0.0.1:${m[1]}` });
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => reject(new Error(`service exited (${code}) before listening:\n${out}`)));
  });
}
