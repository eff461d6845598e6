/** The issue's performance targets, judged from one run's rows. */
import type { BenchOptions } from "./options.js";
import type { Row, Target } from "./report.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function ratioTarget(name: string, goal: number, num: Row | undefined, den: Row | undefined, what: string): Target {
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
    detail: `${num.rps.toFixed(0)} / ${den.rps.toFixed(0)} req/s${met ? "" : `; short by ${((goal - r) * 100).toFixed(0)} points (needs ${(goal * den.rps).toFixed(0)} req/s)`}`,
  };
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
