/**
 * The Grafana dashboard and the compose `observability` profile (issue 11):
 *
 * - docker-compose.yml parses, its observability profile has Prometheus,
 *   Grafana and Jaeger (and leaves the default profile alone), every file it
 *   mounts from ./deploy exists, Prometheus scrapes the service's HTTP port
 *   with a token, Grafana's provisioning parses and points at those services;
 * - every metric a dashboard panel's PromQL names is one the app, as main.ts
 *   builds it, exports after some calls over gRPC and Connect: a dashboard
 *   cannot drift from the metrics without this failing.
 *
 * `metricNamesInPromQL` (the metric names of a PromQL expression) and
 * `isExported` (whether a scrape has a name) are pure and tested first.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CustomerTier } from "../../gen/customers/v1/customer_service_pb.js";
import { ADMIN, authHeaders, customer } from "../support/auth.js";
import { clientsOver } from "../support/clients.js";
import { onRealPostgres } from "../support/db.js";
import { startTestStack, testConfig, type TestStack } from "../support/servers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DASHBOARDS = join(ROOT, "deploy/grafana/dashboards");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

// --- pure helpers -----------------------------------------------------------------------------

/** PromQL words that look like identifiers but are not metric names when not followed by "(". */
const PROMQL_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"]);

/**
 * The metric names a PromQL expression selects, in order of first appearance:
 * identifiers left once strings, comments, Grafana variables (`$x`, `${x}`,
 * `[[x]]`), label matchers (`{…}`), ranges (`[…]`), grouping clauses
 * (`by (…)`, `on (…)`, `group_left (…)`…) and numbers and durations are taken
 * out, that are neither functions or aggregations (followed by `(`) nor keywords.
 * Names are as written (`x_bucket` stays `x_bucket`): `isExported` knows the
 * histogram suffixes.
 */
function metricNamesInPromQL(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/#[^\n]*/g, " ")
    .replace(/\$\{[^}]*\}|\$\w+|\[\[\w+\]\]/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
  const names: string[] = [];
  const token = /0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?(?:ms|[smhdwy])*|([A-Za-z_:][\w:]*)(\s*\()?/gi;
  for (const [, name, call] of stripped.matchAll(token)) {
    if (name === undefined || call !== undefined || PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

interface Exported {
  /** Families from `# TYPE` / `# HELP` lines, with their type ("unknown" when only HELP says so). */
  readonly families: ReadonlyMap<string, string>;
  /** Names of sample lines. */
  readonly samples: ReadonlySet<string>;
}

/** The metric names in a Prometheus text-format scrape. */
function exportedNames(scrape: string): Exported {
  const families = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of scrape.split("\n")) {
    const meta = /^# (TYPE|HELP) ([A-Za-z_:][\w:]*)(?: (\S+))?/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") families.set(meta[2], meta[3] ?? "unknown");
      else if (!families.has(meta[2])) families.set(meta[2], "unknown");
      continue;
    }
    const sample = /^([A-Za-z_:][\w:]*)[{ ]/.exec(line);
    if (sample) samples.add(sample[1]);
  }
  return { families, samples };
}

/** The family a referenced name belongs to: `x_bucket`, `x_sum`, `x_count` of histogram (or summary) `x` are `x`. */
function familyOf(name: string, exported: Exported): string {
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!m) return name;
  const type = exported.families.get(m[1]);
  return type === "histogram" || (type === "summary" && m[2] !== "bucket") ? m[1] : name;
}

/** Whether a name a query uses is in the scrape: a family, a sample, or a histogram's series. */
function isExported(name: string, exported: Exported): boolean {
  return exported.families.has(name) || exported.samples.has(name) || familyOf(name, exported) !== name;
}

/** How a name no scrape line has is reported: `x_bucket`, `x_sum`, `x_count` as the histogram `x` they would belong to. */
const missingFamily = (name: string) => name.replace(/_(bucket|sum|count)$/, "");

// --- dashboard files --------------------------------------------------------------------------

interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; current?: { value?: unknown } }[] };
}

const dashboardFiles = () => readdirSync(DASHBOARDS).filter((f) => f.endsWith(".json"));
const loadDashboard = (file: string) => JSON.parse(readFileSync(join(DASHBOARDS, file), "utf8")) as Dashboard;

/** Every panel, those inside collapsed rows too. */
function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every PromQL expression of every panel of every dashboard, with where it is. */
function panelQueries(): { where: string; expr: string }[] {
  return dashboardFiles().flatMap((file) =>
    allPanels(loadDashboard(file).panels).flatMap((p) =>
      (p.targets ?? []).filter((t) => t.expr !== undefined && t.expr.trim() !== "").map((t) => ({ where: `${file}: ${p.title}`, expr: t.expr! })),
    ),
  );
}

/** The metrics the dashboard must chart (issue 11); the last five are being added alongside it. */
const CHARTED = [
  "grpc_server_handled_total",
  "grpc_server_started_total",
  "rpc_server_call_duration_bucket",
  "admission_calls_in_flight",
  "admission_calls_queued",
  "admission_calls_shed_total",
  "rate_limited_calls_total",
  "db_pool_connections_in_use",
  "db_pool_transactions_in_use",
  "db_pool_waiting",
  "watch_streams_open",
  "order_cache_hits_total",
  "order_cache_misses_total",
  "reconciler_orders_settled_total",
  "reservations_expired_total",
  "db_pool_wait_seconds_bucket",
  "db_statement_duration_seconds_bucket",
  "orders_created_total",
  "stock_shortages_total",
  "retention_rows_purged_total",
];

/** Metrics that exist on a real Postgres only: PGlite runs in the process, with no pool to gate. */
const POSTGRES_ONLY = /^db_pool_/;

// --- compose ----------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, unknown>;
  command?: string | string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = () => parse(read("docker-compose.yml")) as Compose;

function envOf(s: ComposeService): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => (e.includes("=") ? [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] : [e, ""])));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** A service's volumes as { source, target } (short syntax "source:target[:mode]" or long). */
function mountsOf(s: ComposeService): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== "string") return { source: v.source ?? "", target: v.target ?? "" };
    const [source, target] = v.split(":");
    return { source, target: target ?? source };
  });
}

const dependsOn = (s: ComposeService) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));

/** The port the service's HTTP server listens on in the container: its HTTP_PORT, else the Dockerfile's. */
function httpPortOf(service: ComposeService): number {
  const fromEnv = envOf(service).HTTP_PORT;
  if (fromEnv) return Number(fromEnv);
  const m = /\bHTTP_PORT=(\d+)/.exec(read("Dockerfile"));
  if (!m) throw new Error("Dockerfile sets no HTTP_PORT");
  return Number(m[1]);
}

// --- tests ------------------------------------------------------------------------------------

describe("metricNamesInPromQL", () => {
  it("finds the selected metrics, not functions, aggregations, labels, keywords or variables", () => {
    expect(
      metricNamesInPromQL(
        'histogram_quantile(0.95, sum by (le, rpc_method) (rate(rpc_server_call_duration_bucket{rpc_method!~"Watch|WatchOrder", instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(["rpc_server_call_duration_bucket"]);
    expect(
      metricNamesInPromQL('sum(rate(grpc_server_handled_total{grpc_code!="OK"}[5m])) / sum without (grpc_code) (rate(grpc_server_handled_total[5m]))'),
    ).toEqual(["grpc_server_handled_total"]);
    expect(metricNamesInPromQL("order_cache_hits_total / (order_cache_hits_total + order_cache_misses_total)")).toEqual([
      "order_cache_hits_total",
      "order_cache_misses_total",
    ]);
  });

  it("skips binary-operator modifiers, set operators, offsets, numbers and strings", () => {
    expect(
      metricNamesInPromQL(
        'a_total * on (instance) group_left (version) b_info and c_up == bool 1 or d unless e offset 1h30m > 1e3 + 0x1F + .5 + Inf - NaN',
      ),
    ).toEqual(["a_total", "b_info", "c_up", "d", "e"]);
    expect(metricNamesInPromQL('label_replace(up, "dst", "$1 not_a_metric", "src", "(.*)")')).toEqual(["up"]);
    expect(metricNamesInPromQL("sum by (priority) (admission_calls_queued) # a comment naming fake_metric")).toEqual(["admission_calls_queued"]);
    expect(metricNamesInPromQL("max_over_time(x[1h:5m]) @ start()")).toEqual(["x"]);
    expect(metricNamesInPromQL("rate(${metric}[$__interval]) + [[legacy]]")).toEqual([]);
    expect(metricNamesInPromQL("topk(5, sum by (statement) (rate(db_statement_duration_seconds_count[5m])))")).toEqual(["db_statement_duration_seconds_count"]);
    expect(metricNamesInPromQL("vector(1)")).toEqual([]);
  });
});

describe("isExported", () => {
  const exported = exportedNames(
    [
      "# HELP rpc_server_call_duration Time.",
      "# TYPE rpc_server_call_duration histogram",
      'rpc_server_call_duration_bucket{le="+Inf"} 1',
      "rpc_server_call_duration_sum 0.1",
      "rpc_server_call_duration_count 1",
      "# HELP grpc_server_handled_total Calls.",
      "# TYPE grpc_server_handled_total counter",
      'grpc_server_handled_total{grpc_code="OK"} 3',
      "# TYPE queue_length gauge",
      "queue_length 2",
      "# HELP only_help Described but not typed.",
    ].join("\n"),
  );

  it("knows families, samples and a histogram's series", () => {
    for (const name of ["rpc_server_call_duration", "rpc_server_call_duration_bucket", "rpc_server_call_duration_count", "grpc_server_handled_total", "queue_length", "only_help"]) {
      expect(isExported(name, exported), name).toBe(true);
    }
    expect(familyOf("rpc_server_call_duration_bucket", exported)).toBe("rpc_server_call_duration");
  });

  it("does not strip a suffix that names no histogram", () => {
    for (const name of ["grpc_server_handled", "queue_length_count", "queue_length_bucket", "missing_total", "missing_seconds_bucket"]) {
      expect(isExported(name, exported), name).toBe(false);
    }
    expect(familyOf("queue_length_count", exported)).toBe("queue_length_count");
  });
});

describe("the dashboard", () => {
  it("is a Grafana dashboard on the provisioned Prometheus, with unique panel ids", () => {
    const files = dashboardFiles();
    expect(files).toContain("order-service.json");
    const d = loadDashboard("order-service.json");
    expect(d.uid).toBe("order-service");
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ds = d.templating.list.find((v) => v.name === "DS_PROMETHEUS");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    const panels = allPanels(d.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((q) => q.type !== "row")) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it("charts every metric issue 11 lists", () => {
    const used = new Set(panelQueries().flatMap((q) => metricNamesInPromQL(q.expr)));
    expect(CHARTED.filter((name) => !used.has(name))).toEqual([]);
  });
});

describe("docker-compose.yml", () => {
  const OBSERVABILITY = ["prometheus", "grafana", "jaeger"];

  it("has an observability profile with Prometheus, Grafana and Jaeger, and leaves the default profile alone", () => {
    const { services, volumes = {} } = compose();
    for (const name of OBSERVABILITY) expect(services[name]?.profiles, name).toContain("observability");
    const defaults = Object.entries(services).filter(([, s]) => !s.profiles?.length);
    expect(defaults.map(([name]) => name).sort()).toEqual(["order-service", "postgres", "redis"]);
    // A default service depending on a profiled one would not start without the profile.
    for (const [name, s] of defaults) for (const dep of dependsOn(s)) expect(services[dep]?.profiles ?? [], `${name} → ${dep}`).toEqual([]);
    for (const [name, s] of Object.entries(services)) {
      for (const dep of dependsOn(s)) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
      for (const { source } of mountsOf(s)) {
        if (!source.startsWith(".") && !source.startsWith("/")) expect(volumes, `${name}: volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it("mounts only files that exist from ./deploy", () => {
    const mounted = Object.values(compose().services).flatMap((s) => mountsOf(s).map((m) => m.source).filter((src) => src.startsWith("./deploy")));
    expect(mounted.length).toBeGreaterThan(0);
    expect(mounted.filter((src) => !existsSync(join(ROOT, src)))).toEqual([]);
  });

  it("exports traces to Jaeger only when OTEL_EXPORTER_OTLP_ENDPOINT is set", () => {
    const { services } = compose();
    expect(envOf(services["order-service"]).OTEL_EXPORTER_OTLP_ENDPOINT).toBe("${OTEL_EXPORTER_OTLP_ENDPOINT:-}");
    expect(envOf(services.jaeger).COLLECTOR_OTLP_ENABLED).toBe("true");
    const ports = (services.jaeger.ports ?? []).map(String);
    for (const port of ["4317", "4318", "16686"]) expect(ports.some((p) => p.endsWith(`:${port}`)), port).toBe(true);
  });

  it("has Prometheus scrape the service's HTTP port with a service token from the token service", () => {
    const { services } = compose();
    const prometheus = services.prometheus;
    const configMount = mountsOf(prometheus).find((m) => m.target === "/etc/prometheus/prometheus.yml");
    expect(configMount?.source).toBe("./deploy/prometheus/prometheus.yml");
    const config = parse(read("deploy/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; metrics_path?: string; authorization?: { type?: string; credentials_file?: string }; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((j) => j.static_configs.some((c) => c.targets.some((t) => t.startsWith("order-service:"))));
    expect(job, "a job scraping order-service").toBeDefined();
    expect(job!.static_configs.flatMap((c) => c.targets)).toContain(`order-service:${httpPortOf(services["order-service"])}`);
    expect(job!.metrics_path ?? "/metrics").toBe("/metrics");
    // The token: a file in a volume Prometheus shares with the service that writes it.
    const file = job!.authorization?.credentials_file;
    expect(job!.authorization?.type ?? "Bearer").toBe("Bearer");
    expect(file).toBeDefined();
    const tokenMount = mountsOf(prometheus).find((m) => file!.startsWith(`${m.target}/`));
    expect(tokenMount, `a volume holding ${file}`).toBeDefined();
    const writer = Object.entries(services).find(([name, s]) => name !== "prometheus" && mountsOf(s).some((m) => m.source === tokenMount!.source));
    expect(writer, `a service writing ${tokenMount!.source}`).toBeDefined();
    const [, minter] = writer!;
    expect(minter.profiles).toContain("observability");
    expect(minter.image).toBe(services["order-service"].image);
    const command = ([] as string[]).concat(minter.command ?? []).join(" ");
    expect(command).toMatch(/scripts\/token\.ts --role service --name prometheus\b/);
    const targetDir = mountsOf(minter).find((m) => m.source === tokenMount!.source)!.target;
    expect(command).toContain(`${targetDir}/${file!.slice(tokenMount!.target.length + 1)}`);
    // It signs with the key the service trusts: the service's data volume.
    const data = mountsOf(services["order-service"]).find((m) => m.target === "/app/.data")!;
    expect(mountsOf(minter).some((m) => m.source === data.source && m.target === envOf(minter).DATA_DIR)).toBe(true);
    expect(envOf(services["order-service"]).METRICS_PUBLIC ?? "false").toBe("false");
  });

  it("provisions Grafana with Prometheus, Jaeger and the dashboards folder", () => {
    const { services } = compose();
    const grafana = mountsOf(services.grafana);
    const targetOf = (source: string) => grafana.find((m) => m.source === source)?.target;

    const dsDir = targetOf("./deploy/grafana/provisioning/datasources");
    expect(dsDir).toBe("/etc/grafana/provisioning/datasources");
    type Datasource = { name: string; type: string; uid: string; url: string };
    const datasources = readdirSync(join(ROOT, "deploy/grafana/provisioning/datasources"))
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => (parse(read(`deploy/grafana/provisioning/datasources/${f}`)) as { apiVersion: number; datasources: Datasource[] }).datasources);
    const prometheus = datasources.find((d) => d.type === "prometheus");
    const jaeger = datasources.find((d) => d.type === "jaeger");
    expect(prometheus?.url).toBe("http://prometheus:9090");
    expect(jaeger?.url).toBe("http://jaeger:16686");
    // The dashboard's datasource variable defaults to the provisioned Prometheus.
    const variable = loadDashboard("order-service.json").templating.list.find((v) => v.name === "DS_PROMETHEUS");
    expect(variable?.current?.value).toBe(prometheus?.uid);

    expect(targetOf("./deploy/grafana/provisioning/dashboards")).toBe("/etc/grafana/provisioning/dashboards");
    const providers = readdirSync(join(ROOT, "deploy/grafana/provisioning/dashboards"))
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => (parse(read(`deploy/grafana/provisioning/dashboards/${f}`)) as { providers: { type: string; options: { path: string } }[] }).providers);
    expect(providers.map((p) => p.options.path)).toContain(targetOf("./deploy/grafana/dashboards"));
    expect(envOf(services.grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${targetOf("./deploy/grafana/dashboards")}/order-service.json`);
  });
});

describe("the dashboard's metrics, scraped from the app", () => {
  let stack: TestStack;
  beforeAll(async () => {
    const config = await testConfig();
    stack = await startTestStack({ config: { rateLimit: { ...config.rateLimit, readPerSec: 1, windowSeconds: 10 } } });
  });
  afterAll(() => stack?.close());

  it("exports every metric a panel queries, after calls over gRPC and Connect", async () => {
    const run = Date.now();
    const made: string[] = [];
    for (const wire of ["grpc", "connect json"] as const) {
      const { inventory, customers } = clientsOver(stack, wire, ADMIN);
      const { product } = await inventory.createProduct({
        sku: `dash-${wire.replace(" ", "-")}-${run}`,
        name: "charted",
        unitPrice: { currencyCode: "EUR", amountMinor: 250n },
        initialStock: 3n,
      });
      made.push(product!.id);
      await inventory.getProduct({ productId: product!.id });
      await expect(inventory.getProduct({ productId: "3f1c8d9e-1111-4aaa-8bbb-123456789abc" })).rejects.toThrow();
      // An order by a VIP customer, one that cannot be filled (a stock shortage), and reads of it.
      const c = (await customers.createCustomer({ email: `dash-${wire.replace(" ", "-")}-${run}@example.com`, displayName: "D", tier: CustomerTier.VIP })).customer!;
      const { orders } = clientsOver(stack, wire, customer(c.id));
      const { order } = await orders.createOrder({ customerId: c.id, items: [{ productId: product!.id, quantity: 1 }], requestId: `dash-${wire}-${run}` });
      await expect(orders.createOrder({ customerId: c.id, items: [{ productId: product!.id, quantity: 1000 }], requestId: `dash-short-${wire}-${run}` })).rejects.toThrow();
      for (let i = 0; i < 3; i++) await orders.getOrder({ orderId: order!.id }).catch(() => undefined);
    }
    await stack.app.modules.orders!.reconcile();

    const res = await fetch(`${stack.httpUrl}/metrics`, { headers: await authHeaders(ADMIN) });
    expect(res.status).toBe(200);
    const exported = exportedNames(await res.text());

    const queries = panelQueries();
    expect(queries.length).toBeGreaterThan(20);
    const missing = new Map<string, string[]>();
    for (const { where, expr } of queries) {
      for (const name of metricNamesInPromQL(expr)) {
        if (isExported(name, exported) || (!onRealPostgres && POSTGRES_ONLY.test(name))) continue;
        const family = missingFamily(name);
        missing.set(family, [...(missing.get(family) ?? []), where]);
      }
    }
    // On failure: which metric families no scrape line names, and the panels that query them.
    expect(Object.fromEntries([...missing].map(([name, panels]) => [name, [...new Set(panels)]]))).toEqual({});
  });
});
