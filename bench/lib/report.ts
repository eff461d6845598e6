/**
 * The run's results: one row per scenario × protocol × generator, each with
 * its ratio to the ceiling it is judged against; the issue's targets; what
 * authentication costs per call; and the outputs — results.json, results.md
 * and chart.svg.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VerifyCost } from "./auth.js";
import type { AbuseResult } from "./abusive.js";
import { AUTH_COMPARED, authComparison } from "./targets.js";

export interface Row {
  /** Unique, e.g. "get-order grpc h2load". */
  readonly id: string;
  readonly group: "ceiling" | "service" | "scale" | "auth" | "limits" | "metrics" | "tracing" | "relay" | "abuse" | "overload";
  readonly scenario: string;
  readonly protocol: "grpc" | "connect-json" | "sql";
  readonly generator: "node" | "h2load" | "pgbench";
  readonly rps: number;
  readonly ok: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly errors: Record<string, number>;
  readonly serverCpuCores: number;
  readonly dbCpuCores: number;
  readonly peakRssMb: number;
  ceiling?: { id: string; rps: number; ratio: number };
  readonly note?: string;
}

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  readonly status: "met" | "missed" | "not measured";
  readonly detail: string;
}

export interface RunReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { cpus: number; cpuModel: string; memGiB: number; node: string };
  readonly database: string;
  readonly options: object;
  readonly seed: { products: number; customers: number; orders: number; smallOrders: number; seconds: number[] };
  readonly notes: string[];
  readonly rows: Row[];
  readonly targets: Target[];
  readonly reflection: { services: string[]; ghzConfigs: { file: string; call: string; input: string }[] };
  /** The bearer tokens the run's calls carry, and one verification's cost in process. */
  readonly auth: { alg: string; customerTokens: number; verify: VerifyCost };
  readonly profiles: { title: string; file: string; markdown: string }[];
  /** The abusive scenario's abuser (its normal callers are rows of group "abuse"). */
  readonly abuse?: AbuseResult;
  /** The events relay: backlog drains (its sustained rate) and each published event's lag. */
  readonly relay?: RelayFigures;
}

export interface RelayFigures {
  readonly drains: readonly { events: number; seconds: number }[];
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  /** Events the lag was measured over. */
  readonly events: number;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
const errs = (e: Record<string, number>) =>
  Object.keys(e).length === 0 ? "0" : Object.entries(e).map(([k, v]) => `${k}: ${v}`).join(", ");

export function markdownTable(rows: readonly Row[]): string {
  const head = [
    "| scenario | protocol | generator | req/s | p50 ms | p90 ms | p99 ms | errors | server CPU (cores) | DB CPU (cores) | peak RSS MB | vs ceiling |",
    "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
  ];
  return [
    ...head,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.protocol} | ${r.generator} | ${f0(r.rps)} | ${f2(r.p50Ms)} | ${f2(r.p90Ms)} | ${f2(r.p99Ms)} | ${errs(r.errors)} | ${f2(r.serverCpuCores)} | ${f2(r.dbCpuCores)} | ${f0(r.peakRssMb)} | ${
          r.ceiling ? `${(r.ceiling.ratio * 100).toFixed(0)}% of ${r.ceiling.id}` : ""
        } |`,
    ),
  ].join("\n");
}

export function targetsTable(targets: readonly Target[]): string {
  return [
    "| target | goal | measured | status | detail |",
    "|---|---|---|---|---|",
    ...targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | **${t.status}** | ${t.detail} |`),
  ].join("\n");
}

/** µs of server CPU per successful call (the CPU window includes the warm-up, at the same rate). */
const cpuUsPerCall = (r: Row) => (r.rps > 0 ? (r.serverCpuCores / r.rps) * 1e6 : NaN);

export function relayMarkdown(f: RelayFigures): string {
  return [
    "## Events relay",
    "",
    "| backlog drained by one relay (Redis) | events | seconds | events/s |",
    "|---|---:|---:|---:|",
    ...f.drains.map((d, i) => `| on leg ${i + 1} | ${d.events} | ${f2(d.seconds)} | ${f0(d.events / d.seconds)} |`),
    "",
    `Lag, commit → on the stream (entry id time − event time), of the ${f.events} events committed while the relay was on and caught up: p50 ${f1(f.lagP50Ms)} ms, p99 ${f1(f.lagP99Ms)} ms.`,
  ].join("\n");
}

export function authMarkdown(r: RunReport): string {
  const v = r.auth.verify;
  const lines = [
    "## Authentication",
    "",
    `Every call but Health and GetProduct carries the bearer token (${r.auth.alg}) of the customer it is for: ${r.auth.customerTokens} customer tokens, minted once per run with the run's own key.`,
    "",
    "| verification (in process, createTokenVerifier, no server) | calls | µs per call |",
    "|---|---:|---:|",
    `| cache hit, one token over and over (as h2load's), ${v.cachedTokens} tokens cached | ${v.hitCalls} | ${f2(v.hitOneTokenUs)} |`,
    `| cache hit, the ${v.cachedTokens} cached tokens in turn (as the Node generator's) | ${v.hitCalls} | ${f2(v.hitManyTokensUs)} |`,
    `| first verification (${r.auth.alg} signature and claims, jose), distinct tokens | ${v.firstCalls} | ${f1(v.firstUs)} |`,
    "",
    "| auth on vs off (gRPC) | on, before req/s | off req/s | on, after req/s | on / off | server CPU µs per call, on | off |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const c of AUTH_COMPARED) {
    const { before, off, after, on, onRps } = authComparison(r.rows, c.scenario, c.generator);
    if (!off || !onRps) continue;
    const onCpu = on.reduce((s, x) => s + cpuUsPerCall(x), 0) / on.length;
    lines.push(
      `| ${c.scenario} (${c.generator}) | ${before ? f0(before.rps) : "–"} | ${f0(off.rps)} | ${after ? f0(after.rps) : "–"} | ${((onRps.rps / off.rps) * 100).toFixed(1)}% | ${f0(onCpu)} | ${f0(cpuUsPerCall(off))} |`,
    );
  }
  return lines.join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Two horizontal bar panels (req/s, p99 ms) sharing row labels. */
export function svgChart(rows: readonly Row[], title: string): string {
  const rowH = 18;
  const labelW = 300;
  const panelW = 330;
  const gap = 40;
  const top = 50;
  const width = labelW + 2 * panelW + gap + 20;
  const height = top + rows.length * rowH + 30;
  const maxRps = Math.max(1, ...rows.map((r) => r.rps));
  const maxP99 = Math.max(1, ...rows.map((r) => (Number.isFinite(r.p99Ms) ? r.p99Ms : 0)));
  const color = (r: Row) => (r.group === "ceiling" ? "#8c8c8c" : r.protocol === "grpc" ? "#3b6fb6" : r.protocol === "sql" ? "#6a9f3b" : "#d0782a");
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${labelW}" y="40" font-weight="bold">throughput (req/s; pgbench: orders/s)</text>`,
    `<text x="${labelW + panelW + gap}" y="40" font-weight="bold">p99 latency (ms)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const w1 = (r.rps / maxRps) * (panelW - 60);
    const p99 = Number.isFinite(r.p99Ms) ? r.p99Ms : 0;
    const w2 = (p99 / maxP99) * (panelW - 60);
    out.push(
      `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(`${r.scenario} · ${r.protocol} · ${r.generator}`)}</text>`,
      `<rect x="${labelW}" y="${y + 2}" width="${w1.toFixed(1)}" height="${rowH - 5}" fill="${color(r)}"/>`,
      `<text x="${labelW + w1 + 4}" y="${y + 12}">${f0(r.rps)}</text>`,
      `<rect x="${labelW + panelW + gap}" y="${y + 2}" width="${w2.toFixed(1)}" height="${rowH - 5}" fill="${color(r)}" opacity="0.75"/>`,
      `<text x="${labelW + panelW + gap + w2 + 4}" y="${y + 12}">${Number.isFinite(r.p99Ms) ? f1(r.p99Ms) : "–"}</text>`,
    );
  });
  const ly = height - 12;
  const legend: [string, string][] = [["#8c8c8c", "ceiling"], ["#3b6fb6", "gRPC"], ["#d0782a", "Connect JSON"], ["#6a9f3b", "SQL (pgbench)"]];
  legend.forEach(([c, name], i) => {
    out.push(`<rect x="${10 + i * 120}" y="${ly - 9}" width="10" height="10" fill="${c}"/>`, `<text x="${24 + i * 120}" y="${ly}">${name}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

export function reportMarkdown(r: RunReport): string {
  return [
    `# Benchmark results`,
    "",
    `${r.startedAt} → ${r.finishedAt} · ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node} · ${r.database}`,
    `Seed: ${r.seed.products} products, ${r.seed.customers} customers, ${r.seed.orders} orders (scale scenario also at ${r.seed.smallOrders}); seeding took ${r.seed.seconds.map((s) => `${s.toFixed(1)} s`).join(" + ")}.`,
    "The load generators run on the same machine as the service and the database, sharing its cores.",
    "",
    ...r.notes.map((n) => `- ${n}`),
    "",
    "## Targets",
    "",
    targetsTable(r.targets),
    "",
    "## All scenarios",
    "",
    markdownTable(r.rows),
    "",
    authMarkdown(r),
    "",
    ...(r.relay ? [relayMarkdown(r.relay), ""] : []),
    ...(r.profiles.length > 0 ? ["## Profiles (server, self time)", "", ...r.profiles.map((p) => p.markdown)] : []),
  ].join("\n");
}

export function writeReport(dir: string, r: RunReport): { json: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "results.json");
  const md = join(dir, "results.md");
  const svg = join(dir, "chart.svg");
  writeFileSync(json, JSON.stringify(r, null, 2) + "\n");
  writeFileSync(md, reportMarkdown(r) + "\n");
  writeFileSync(svg, svgChart(r.rows, `order-service bench · ${r.database} · ${r.finishedAt}`) + "\n");
  return { json, md, svg };
}
