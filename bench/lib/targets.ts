/** The issue's performance targets, judged from one run's rows. */
import type { BenchOptions } from "./options.js";
import type { Row, Target } from "./report.js";

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
 * default, against both turned off), like auth's: "on" is the mean of the legs around "off". Node
 * generator only: its calls come from every customer, as a shop's do; h2load's one token would be
 * rate limited, which is the limiter working, not its cost.
 */
export const LIMITS_LEGS = AUTH_LEGS;
export type LimitsLeg = AuthLeg;
export const limitsLabel = (scenario: string, leg: LimitsLeg) => `${scenario} (limits ${leg})`;
export const LIMITS_COMPARED = [
  { name: "CreateOrder", scenario: "create-order", generator: "node" },
  { name: "GetOrder", scenario: "get-order", generator: "node" },
] as const;

function ratioTarget(name: string, goal: number, num: Pick<Row, "rps"> | undefined, den: Row | undefined, what: string, basis = ""): Target {
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

/** A scenario's on/off rows (gRPC) named by `label`: each leg, and the on legs with their mean throughput. */
function onOffComparison(rows: readonly Row[], label: (scenario: string, leg: AuthLeg) => string, scenario: string, generator: string) {
  const leg = (l: AuthLeg) => rows.find((r) => r.id === `${label(scenario, l)} grpc ${generator}`);
  const [before, off, after] = AUTH_LEGS.map(leg);
  const on = [before, after].filter((r): r is Row => r !== undefined);
  const onRps = on.length === 0 ? undefined : { rps: on.reduce((s, r) => s + r.rps, 0) / on.length };
  return { before, off, after, on, onRps };
}

/** A scenario's auth on/off rows (gRPC): each leg, and the on legs with their mean throughput. */
export const authComparison = (rows: readonly Row[], scenario: string, generator: string) => onOffComparison(rows, authLabel, scenario, generator);

/** `name` ≥ 95%: on (the mean of the legs around off) against off. */
function onOffTarget(rows: readonly Row[], feature: string, label: (scenario: string, leg: AuthLeg) => string, c: { scenario: string; generator: string }, name: string, what: string): Target {
  const { on, onRps, off } = onOffComparison(rows, label, c.scenario, c.generator);
  const basis = on.length > 0 ? `${feature} on = mean of ${on.map((r) => r.rps.toFixed(0)).join(" and ")}; ` : "";
  return ratioTarget(name, 0.95, onRps, off, what, basis);
}

export function evaluateTargets(
  rows: readonly Row[],
  o: BenchOptions,
  soak: { startMb: number; endMb: number; seconds: number } | undefined,
): Target[] {
  const row = (id: string) => rows.find((r) => r.id === id);
  const targets: Target[] = [
    ratioTarget("CreateOrder vs pgbench order transaction", 0.6, row("create-order grpc node"), row("create-order txn (pgbench) sql pgbench"), "Postgres (pgbench) and the create-order row"),
  ];
  for (const gen of ["h2load", "node"]) {
    targets.push(ratioTarget(`GetOrder gRPC vs plain grpc-js no-op (${gen})`, 0.85, row(`get-order grpc ${gen}`), row(`noop (plain grpc-js) grpc ${gen}`), `${gen} rows`));
  }
  for (const gen of ["h2load", "node"]) {
    targets.push(ratioTarget(`Connect JSON GetOrder vs gRPC GetOrder (${gen})`, 0.9, row(`get-order connect-json ${gen}`), row(`get-order grpc ${gen}`), `${gen} rows`));
  }
  for (const c of AUTH_COMPARED) {
    targets.push(onOffTarget(rows, "auth", authLabel, c, `${c.name} auth on vs auth off (gRPC, ${c.generator})`, `the ${c.scenario} auth on/off rows (${c.generator})`));
  }
  for (const c of LIMITS_COMPARED) {
    targets.push(onOffTarget(rows, "limits", limitsLabel, c, `${c.name} limits on vs off (gRPC, ${c.generator})`, `the ${c.scenario} limits on/off rows`));
  }
  for (const s of ["get-order", "list-orders"]) {
    targets.push(ratioTarget(`${s} at ${o.orders} vs ${o.smallOrders} orders`, 0.9, row(`${s} @${o.orders} grpc node`), row(`${s} @${o.smallOrders} grpc node`), "both scale rows"));
  }
  const service = rows.filter((r) => r.group !== "ceiling" && Number.isFinite(r.peakRssMb));
  const peak = service.reduce((m, r) => Math.max(m, r.peakRssMb), 0);
  const worst = service.find((r) => r.peakRssMb === peak);
  targets.push(
    service.length === 0
      ? { name: "server RSS under load", goal: "< 150 MB", measured: "–", status: "not measured", detail: "" }
      : { name: "server RSS under load", goal: "< 150 MB", measured: `${peak.toFixed(0)} MB`, status: peak < 150 ? "met" : "missed", detail: `peak over all service scenarios (in ${worst?.id})${peak < 150 ? "" : `; over by ${(peak - 150).toFixed(0)} MB`}` },
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
