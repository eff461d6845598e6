/**
 * h2load (nghttp2-client) for fixed requests over gRPC (h2c, one gRPC frame
 * as the body) and Connect JSON (POST over h2c).
 *
 * h2load counts a gRPC error as a success (HTTP 200). So: (1) a verification
 * pass sends the exact bytes through node:http2 and reads grpc-status from the
 * trailers — all must be OK, and the OK response body has a fixed size; (2)
 * during the load run an OK gRPC response carries exactly that many DATA bytes
 * while an error (trailers-only) carries none, so successes = received DATA
 * bytes / OK body size, and every other completed request is an error. For
 * Connect, errors are non-2xx HTTP statuses (Connect unary errors are 4xx/5xx).
 * A request with a caller carries its `authorization` header in both passes.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { join } from "node:path";
import type { FixedRequest } from "./scenarios.js";
import { percentiles, type Latency } from "./stats.js";

export type H2Protocol = "grpc" | "connect-json";

export function h2loadAvailable(): boolean {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs nghttp2-client through apt when missing (needs root); true when h2load is then usable. */
export function ensureH2load(log: (s: string) => void): boolean {
  if (h2loadAvailable()) return true;
  if (process.getuid?.() !== 0) return false;
  log("h2load missing: installing nghttp2-client with apt-get");
  try {
    execFileSync("apt-get", ["install", "-y", "-q", "nghttp2-client"], { stdio: "ignore", timeout: 180_000 });
  } catch {
    try {
      execFileSync("apt-get", ["update", "-q"], { stdio: "ignore", timeout: 180_000 });
      execFileSync("apt-get", ["install", "-y", "-q", "nghttp2-client"], { stdio: "ignore", timeout: 180_000 });
    } catch {
      return false;
    }
  }
  return h2loadAvailable();
}

interface Probe {
  readonly status: string;
  readonly bodyBytes: number;
}

function probeOnce(session: http2.ClientHttp2Session, req: FixedRequest, protocol: H2Protocol): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders =
      protocol === "grpc"
        ? { ":method": "POST", ":path": req.path, "content-type": "application/grpc", te: "trailers" }
        : { ":method": "POST", ":path": req.path, "content-type": "application/json" };
    if (req.authorization !== undefined) headers.authorization = req.authorization;
    const stream = session.request(headers);
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let bytes = 0;
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]); // trailers-only
    });
    stream.on("trailers", (t) => (grpcStatus = String(t["grpc-status"])));
    stream.on("data", (d: Buffer) => (bytes += d.length));
    stream.on("end", () =>
      resolve({ status: protocol === "grpc" ? `grpc-${grpcStatus ?? "missing"}` : `http-${httpStatus}`, bodyBytes: bytes }),
    );
    stream.on("error", reject);
    stream.end(protocol === "grpc" ? req.grpcFrame : Buffer.from(req.json));
  });
}

/** Sends the exact request `n` times; returns the OK body size, or throws naming the statuses seen. */
export async function verifyFixed(baseUrl: string, req: FixedRequest, protocol: H2Protocol, n = 50): Promise<number> {
  const session = http2.connect(baseUrl);
  try {
    const probes: Probe[] = [];
    for (let i = 0; i < n; i++) probes.push(await probeOnce(session, req, protocol));
    const ok = protocol === "grpc" ? "grpc-0" : "http-200";
    const bad = probes.filter((p) => p.status !== ok);
    if (bad.length > 0) throw new Error(`${req.path} over ${protocol}: ${bad.length}/${n} not OK (${bad[0].status})`);
    const sizes = new Set(probes.map((p) => p.bodyBytes));
    if (sizes.size !== 1) throw new Error(`${req.path} over ${protocol}: OK responses vary in size (${[...sizes].join(", ")})`);
    return probes[0].bodyBytes;
  } finally {
    session.close();
  }
}

export interface H2loadResult {
  readonly ok: number;
  readonly rps: number;
  readonly latency: Latency;
  readonly errors: Record<string, number>;
  readonly note?: string;
}

export interface H2loadOptions {
  readonly baseUrl: string;
  readonly request: FixedRequest;
  readonly protocol: H2Protocol;
  readonly clients: number;
  /** Concurrent streams per client. */
  readonly streams: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly workDir: string;
}

function h2load(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("h2load", args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`h2load failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

const num = (re: RegExp, text: string) => {
  const m = re.exec(text);
  if (!m) throw new Error(`h2load output lacks ${re}:\n${text}`);
  return Number(m[1]);
};

export async function runH2load(o: H2loadOptions): Promise<H2loadResult> {
  const okBytes = await verifyFixed(o.baseUrl, o.request, o.protocol);
  const body = join(o.workDir, "h2load-body.bin");
  const log = join(o.workDir, "h2load-requests.log");
  writeFileSync(body, o.protocol === "grpc" ? o.request.grpcFrame : Buffer.from(o.request.json));
  const headers = [
    ...(o.protocol === "grpc" ? ["-H", "content-type: application/grpc", "-H", "te: trailers"] : ["-H", "content-type: application/json"]),
    ...(o.request.authorization === undefined ? [] : ["-H", `authorization: ${o.request.authorization}`]),
  ];
  const url = o.baseUrl + o.request.path;
  const common = ["-c", String(o.clients), "-m", String(o.streams), "-d", body, ...headers];
  // A separate warm-up run, so the measured run's byte counts cover only measured requests.
  if (o.warmupMs >= 1000) await h2load([...common, "-D", String(Math.round(o.warmupMs / 1000)), url]);
  else if (o.warmupMs > 0) await h2load([...common, "-n", String(o.clients * o.streams * 10), url]);
  const secs = Math.max(1, Math.round(o.durationMs / 1000));
  const out = await h2load([...common, "-D", String(secs), `--log-file=${log}`, url]);

  const done = num(/requests: \d+ total, \d+ started, (\d+) done/, out);
  const http2xx = num(/status codes: (\d+) 2xx/, out);
  const dataBytes = num(/\((\d+)\) data/, out);
  const errors: Record<string, number> = {};
  let ok: number;
  let note: string | undefined;
  if (o.protocol === "grpc") {
    ok = okBytes > 0 ? Math.min(http2xx, Math.floor(dataBytes / okBytes)) : http2xx;
    if (okBytes > 0 && dataBytes % okBytes !== 0) note = `DATA bytes ${dataBytes} not a multiple of ${okBytes}`;
    if (done - ok > 0) errors["non-OK (by DATA bytes)"] = done - ok;
  } else {
    ok = http2xx;
    if (done - ok > 0) errors["non-2xx"] = done - ok;
  }
  const latencies = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => Number(line.split("\t")[2]) / 1000);
  rmSync(log, { force: true });
  return { ok, rps: ok / secs, latency: percentiles(Float64Array.from(latencies)), errors, note };
}
