/**
 * The database ceiling: pgbench running bench/pgbench/create-order.sql (the
 * statements of one CreateOrder) against the bench database, with as many
 * clients as the service has pool connections.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RESERVATION_OWNER } from "./seed.js";

export const PGBENCH_SCRIPT = fileURLToPath(new URL("../pgbench/create-order.sql", import.meta.url));

export interface PgbenchResult {
  readonly tps: number;
  readonly latencyAvgMs: number;
  readonly failed: number;
  readonly transactions: number;
}

export function runPgbench(o: {
  url: string;
  clients: number;
  durationMs: number;
  products: number;
  customers: number;
}): Promise<PgbenchResult> {
  const args = [
    "-n", "-M", "prepared", "-f", PGBENCH_SCRIPT,
    "-c", String(o.clients), "-j", "2",
    "-T", String(Math.max(1, Math.round(o.durationMs / 1000))),
    "-D", `products=${o.products}`, "-D", `customers=${o.customers}`, "-D", `owner=${RESERVATION_OWNER}`,
    o.url,
  ];
  return new Promise((resolve, reject) =>
    execFile("pgbench", args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`pgbench failed: ${err.message}\n${stderr}\n${stdout}`));
      const tps = /tps = ([\d.]+)/.exec(stdout);
      const lat = /latency average = ([\d.]+) ms/.exec(stdout);
      const done = /number of transactions actually processed: (\d+)/.exec(stdout);
      const failed = /number of failed transactions: (\d+)/.exec(stdout);
      if (!tps || !done) return reject(new Error(`cannot parse pgbench output:\n${stdout}\n${stderr}`));
      resolve({
        tps: Number(tps[1]),
        latencyAvgMs: lat ? Number(lat[1]) : NaN,
        transactions: Number(done[1]),
        failed: failed ? Number(failed[1]) : 0,
      });
    }),
  );
}
