/** The issue's performance targets, judged from one run's rows. */
import type { BenchOptions } from "./options.js";
import type { Row, Target } from "./report.js";
import { SEARCH_SCENARIOS } from "./scenarios.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The legs of the auth on/off comparison, in the order bench/run.ts measures
 * them; the "on" side is the mean of the legs before and after "off".
 */
export const AUTH_LEGS = ["on, before", "off", "on, after"] as const;
export type AuthLeg = (typeof AUTH_LEGS)[number];
export const authLabel = (scenario: string, leg: AuthLeg) => `${scenario} (auth ${leg})`;
/** What is compared with auth on and off, over gRPC: the names its targets and the report use. */
export const AUTH_COMPARED = [
  { name: "CreateOrder", scenario: "create-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "h2load" },
] as const;

/**
 * The legs of the limits on/off comparison (rate limits and priority admission, as configured by
 * default, against both turned off), alternated five times: "on" is the mean of the three on legs,
 * "off" of the two off legs — both sides centred on the middle leg, so a drift linear in time
 * cancels, and each side averages more than one service start (single legs of this comparison
 * moved by 10–15% between each other). Node generator only: its calls come from every customer, as
 * a shop's do; h2load's one token would be rate limited, which is the limiter working, not its cost.
 */
export const LIMITS_LEGS = ["on 1", "off 1", "on 2", "off 2", "on 3"] as const;
export type LimitsLeg = (typeof LIMITS_LEGS)[number];
/** The legs a run measures: `--quick` (the smoke test, which judges nothing) the first three only. */
export const limitsLegsOf = (o: Pick<BenchOptions, "quick">): readonly LimitsLeg[] => (o.quick ? LIMITS_LEGS.slice(0, 3) : LIMITS_LEGS);
/** Whether a leg of an on/off comparison is an "off" leg. */
export const isOffLeg = (leg: string) => leg.startsWith("off");
export const limitsLabel = (scenario: string, leg: LimitsLeg) => `${scenario} (limits ${leg})`;
export const LIMITS_COMPARED = [
  { name: "CreateOrder", scenario: "create-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "node" },
] as const;

/**
 * What the metrics on/off legs compare (METRICS=true, the default, against METRICS=false; the limits
 * legs, alternated). GetOrder on h2load too: the hot, cheapest call is where a per-call cost shows most.
 */
export const metricsLabel = (scenario: string, leg: LimitsLeg) => `${scenario} (metrics ${leg})`;
export const METRICS_COMPARED = [
  { name: "CreateOrder", scenario: "create-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "h2load" },
] as const;
export const relayLabel = (scenario: string, leg: LimitsLeg) => `${scenario} (relay ${leg})`;
/** The events relay publishing to Redis (on) against no broker (off): CreateOrder's two events per order. */
export const RELAY_COMPARED = [{ name: "CreateOrder", scenario: "create-order", generator: "node" }] as const;

export const tracingLabel = (scenario: string, leg: LimitsLeg) => `${scenario} (tracing ${leg})`;
/** Tracing on (the SDK exporting every span to a local OTLP sink) against off (no SDK loaded). */
export const TRACING_COMPARED = [
  { name: "CreateOrder", scenario: "create-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "node" },
] as const;

function ratioTarget(name: string, goal: number, num: Pick<Row, "rps"> | undefined, den: Pick<Row, "rps"> | undefined, what: string, basis = ""): Target {
  if (!num || !den || den.rps <= 0) {
    return { name, goal: `≥ ${pct(goal)}`, measured: "–", status: "not measured", detail: `needs ${what}` };
  }
  const r = num.rps / den.rps;
  const met = r >= goal;
  return {
    name,
    goal: `≥ ${pct(goal)}`,
    measured: pct(r),
    status: met ? "met" : "missed",
    detail: `${basis}${num.rps.toFixed(0)} / ${den.rps.toFixed(0)} req/s${met ? "" : `; short by ${((goal - r) * 100).toFixed(0)} points (needs ${(goal * den.rps).toFixed(0)} req/s)`}`,
  };
}

/**
 * Issue 14: every search's p99 within `goal`× the p99 of ListOrders by
 * customer, both at the same scale in the same service (the scale rows).
 */
function p99Target(name: string, goal: number, num: Row | undefined, den: Row | undefined, what: string): Target {
  if (!num || !den || !(den.p99Ms > 0) || !Number.isFinite(num.p99Ms)) {
    return { name, goal: `≤ ${goal}×`, measured: "–", status: "not measured", detail: `needs ${what}` };
  }
  const r = num.p99Ms / den.p99Ms;
  const met = r <= goal;
  return {
    name,
    goal: `≤ ${goal}×`,
    measured: `${r.toFixed(2)}×`,
    status: met ? "met" : "missed",
    detail: `p99 ${num.p99Ms.toFixed(2)} / ${den.p99Ms.toFixed(2)} ms (p50 ${num.p50Ms.toFixed(2)} / ${den.p50Ms.toFixed(2)} ms)${met ? "" : `; over by ${(num.p99Ms - goal * den.p99Ms).toFixed(2)} ms`}`,
  };
}

const meanRps = (rs: readonly Row[]) => (rs.length === 0 ? undefined : { rps: rs.reduce((s, r) => s + r.rps, 0) / rs.length });

/** A scenario's on/off rows (gRPC) named by `label`, for `legs` in order: the on and off rows and each side's mean throughput. */
function onOffComparison<L extends string>(rows: readonly Row[], legs: readonly L[], label: (scenario: string, leg: L) => string, scenario: string, generator: string) {
  const found = legs.map((leg) => ({ leg, row: rows.find((r) => r.id === `${label(scenario, leg)} grpc ${generator}`) }));
  const side = (off: boolean) => found.filter((f) => isOffLeg(f.leg) === off && f.row).map((f) => f.row!);
  const on = side(false);
  const off = side(true);
  return { legs: found, on, off, onRps: meanRps(on), offRps: meanRps(off) };
}

/** A scenario's auth on/off rows (gRPC): each leg, and the on legs with their mean throughput. */
export function authComparison(rows: readonly Row[], scenario: string, generator: string) {
  const c = onOffComparison(rows, AUTH_LEGS, authLabel, scenario, generator);
  const [before, off, after] = c.legs.map((f) => f.row);
  return { before, off, after, on: c.on, onRps: c.onRps };
}

/** `name` ≥ `goal` (95%): on (the mean of the on legs, around the off ones) against off (their mean). */
function onOffTarget<L extends string>(rows: readonly Row[], feature: string, legs: readonly L[], label: (scenario: string, leg: L) => string, c: { scenario: string; generator: string }, name: string, what: string, goal = 0.95): Target {
  const { on, off, onRps, offRps } = onOffComparison(rows, legs, label, c.scenario, c.generator);
  const list = (rs: readonly Row[]) => rs.map((r) => r.rps.toFixed(0)).join(", ");
  const basis = on.length > 0 && off.length > 0 ? `${feature} on = mean of ${list(on)}; off = mean of ${list(off)}; ` : "";
  return ratioTarget(name, goal, onRps, offRps, what, basis);
}

export function evaluateTargets(
  rows: readonly Row[],
  o: BenchOptions,
  soak: { startMb: number; endMb: number; seconds: number } | undefined,
): Target[] {
  const row = (id: string) => rows.find((r) => r.id === id);
  const targets: Target[] = [
    ratioTarget("CreateOrder vs pgbench order transaction", 0.6, row("create-order grpc node"), row("create-order txn (pgbench) sql pgbench"), "Postgres (pgbench) and the create-order row"),
    ratioTarget("CreateOrder on two hot products vs spread over the catalogue", 0.8, row("hot-products grpc node"), row("create-order grpc node"), "the hot-products and create-order rows"),
  ];
  for (const gen of ["h2load", "node"]) {
    targets.push(ratioTarget(`GetOrder gRPC vs plain grpc-js no-op (${gen})`, 0.85, row(`get-order grpc ${gen}`), row(`noop (plain grpc-js) grpc ${gen}`), `${gen} rows`));
  }
  for (const gen of ["h2load", "node"]) {
    targets.push(ratioTarget(`Connect JSON GetOrder vs gRPC GetOrder (${gen})`, 0.9, row(`get-order connect-json ${gen}`), row(`get-order grpc ${gen}`), `${gen} rows`));
  }
  for (const c of AUTH_COMPARED) {
    targets.push(onOffTarget(rows, "auth", AUTH_LEGS, authLabel, c, `${c.name} auth on vs auth off (gRPC, ${c.generator})`, `the ${c.scenario} auth on/off rows (${c.generator})`));
  }
  for (const c of LIMITS_COMPARED) {
    targets.push(onOffTarget(rows, "limits", limitsLegsOf(o), limitsLabel, c, `${c.name} limits on vs off (gRPC, ${c.generator})`, `the ${c.scenario} limits on/off rows`));
  }
  for (const c of METRICS_COMPARED) {
    targets.push(onOffTarget(rows, "metrics", limitsLegsOf(o), metricsLabel, c, `${c.name} metrics on vs off (gRPC, ${c.generator})`, `the ${c.scenario} metrics on/off rows (${c.generator})`));
  }
  for (const c of RELAY_COMPARED) {
    targets.push(onOffTarget(rows, "relay", limitsLegsOf(o), relayLabel, c, `${c.name} relay publishing to Redis vs off (gRPC, ${c.generator})`, `the ${c.scenario} relay on/off rows`, 0.9));
  }
  for (const c of TRACING_COMPARED) {
    targets.push(onOffTarget(rows, "tracing", limitsLegsOf(o), tracingLabel, c, `${c.name} tracing on vs off (gRPC, ${c.generator})`, `the ${c.scenario} tracing on/off rows`));
  }
  for (const s of ["get-order", "list-orders"]) {
    targets.push(ratioTarget(`${s} at ${o.orders} vs ${o.smallOrders} orders`, 0.9, row(`${s} @${o.orders} grpc node`), row(`${s} @${o.smallOrders} grpc node`), "both scale rows"));
  }
  const listByCustomer = row(`list-orders @${o.orders} grpc node`);
  for (const s of SEARCH_SCENARIOS) {
    targets.push(p99Target(`${s} p99 vs list-orders by customer p99 at ${o.orders} orders`, 2, row(`${s} @${o.orders} grpc node`), listByCustomer, `the ${s} and list-orders @${o.orders} scale rows`));
  }
  // The service as it runs by default: tracing is off unless an exporter is configured, so the
  // tracing-on legs (the OpenTelemetry SDK loaded, exporting every span) are reported beside the
  // target, not in it.
  const measured = rows.filter((r) => r.group !== "ceiling" && Number.isFinite(r.peakRssMb));
  const isTracingOn = (r: Row) => r.group === "tracing" && r.id.includes("(tracing on");
  const tracingOn = measured.filter(isTracingOn);
  const service = measured.filter((r) => !isTracingOn(r));
  const peak = service.reduce((m, r) => Math.max(m, r.peakRssMb), 0);
  const worst = service.find((r) => r.peakRssMb === peak);
  const tracingPeak = tracingOn.reduce((m, r) => Math.max(m, r.peakRssMb), 0);
  const tracingNote = tracingOn.length > 0 ? `; with tracing on (opt-in, its own legs) ${tracingPeak.toFixed(0)} MB` : "";
  targets.push(
    service.length === 0
      ? { name: "server RSS under load", goal: "< 150 MB", measured: "–", status: "not measured", detail: "" }
      : {
          name: "server RSS under load",
          goal: "< 150 MB",
          measured: `${peak.toFixed(0)} MB`,
          status: peak < 150 ? "met" : "missed",
          detail: `peak over all service scenarios, tracing off as by default (in ${worst?.id})${peak < 150 ? "" : `; over by ${(peak - 150).toFixed(0)} MB`}${tracingNote}`,
        },
  );
  if (soak) {
    const growth = (soak.endMb - soak.startMb) / Math.max(1, soak.startMb);
    targets.push({
      name: `RSS growth over a ${soak.seconds.toFixed(0)} s run`,
      goal: "< 10%",
      measured: `${(growth * 100).toFixed(1)}%`,
      status: growth < 0.1 ? "met" : "missed",
      detail: `mean RSS of the first minute (after 30 s) ${soak.startMb.toFixed(0)} MB → last minute ${soak.endMb.toFixed(0)} MB (mixed profile, gRPC)`,
    });
  } else {
    targets.push({ name: "RSS growth over a 5-minute run", goal: "< 10%", measured: "–", status: "not measured", detail: "run with --soak 300" });
  }
  return targets;
}
