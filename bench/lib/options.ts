/**
 * Command-line flags (each also readable from BENCH_<FLAG> in the
 * environment, e.g. BENCH_DURATION=20). `--quick` is the tiny smoke-test
 * scale; `--full` seeds 1M orders for the scale scenario.
 */
export interface BenchOptions {
  readonly quick: boolean;
  readonly full: boolean;
  readonly products: number;
  readonly customers: number;
  /** Orders seeded for the main scenarios (the "large" side of the scale ratio). */
  readonly orders: number;
  /** Orders at the "small" side of the scale ratio (10k). */
  readonly smallOrders: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Calls in flight for every generator. */
  readonly concurrency: number;
  /** Node generator threads. */
  readonly workers: number;
  readonly poolMax: number;
  /** Scenario name filter (empty: all). */
  readonly only: readonly string[];
  readonly profile: boolean;
  readonly soakMs: number;
  readonly serve: boolean;
  readonly useH2load: boolean;
  readonly outDir: string;
}

const HELP = `npm run bench -- [flags]
  --quick              tiny scale, ~2 s per scenario (the smoke test)
  --full               1M orders (scale scenario 10k vs 1M)
  --products N         seeded products (default 10000)
  --customers N        seeded customers (default 10000)
  --orders N           seeded orders (default 100000; --full: 1000000)
  --duration S         measured seconds per scenario (default 8)
  --warmup S           warm-up seconds per scenario (default 2)
  --concurrency N      calls in flight (default 32)
  --workers N          Node generator threads (default 1)
  --pool N             service DB_POOL_MAX and pgbench clients (default 10)
  --only a,b           run only scenarios whose id contains one of these
  --profile            also profile the service (--cpu-prof) on the hot paths
  --soak S             run the mixed profile S seconds watching RSS growth (default off)
  --serve              seed, then serve on :50051/:8080 for ghz until Ctrl-C (prints an admin token)
  --no-h2load          use only the Node generator
  --out DIR            results directory (default bench/results)
Environment: DATABASE_URL (real Postgres; a bench_* database is created and dropped), else PGlite.
Every flag can also be given as BENCH_<FLAG>, e.g. BENCH_DURATION=20.
BENCH_DEBUG=1 prints the first message of each kind of failure of the overload scenario.
The service's own settings (e.g. ADMISSION_MAX_CONCURRENT) pass through to it.`;

export function parseOptions(argv: readonly string[], env: Record<string, string | undefined>): BenchOptions {
  const flags = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith("BENCH_") && v !== undefined) flags.set(k.slice(6).toLowerCase().replaceAll("_", "-"), v);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      process.stdout.write(HELP + "\n");
      process.exit(0);
    }
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}\n${HELP}`);
    const [name, inline] = a.slice(2).split("=", 2);
    const boolean = ["quick", "full", "profile", "serve", "no-h2load"].includes(name);
    flags.set(name, inline ?? (boolean ? "true" : argv[++i]));
  }
  const bool = (n: string) => /^(1|true|yes|on)$/i.test(flags.get(n) ?? "");
  const num = (n: string, def: number) => {
    const raw = flags.get(n);
    if (raw === undefined) return def;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${n} must be a non-negative number, got "${raw}"`);
    return v;
  };
  const quick = bool("quick");
  const full = bool("full");
  const products = num("products", quick ? 100 : 10_000);
  const customers = num("customers", quick ? 100 : 10_000);
  const orders = num("orders", quick ? 1_000 : full ? 1_000_000 : 100_000);
  return {
    quick,
    full,
    products,
    customers,
    orders,
    smallOrders: Math.min(orders, num("small-orders", quick ? 500 : 10_000)),
    // --quick: 2 s, so one stall of a loaded CI box (a GC pause, a relay catching up) cannot leave a leg with no completed call.
    durationMs: num("duration", quick ? 2 : 8) * 1000,
    warmupMs: num("warmup", quick ? 0.5 : 2) * 1000,
    concurrency: num("concurrency", quick ? 8 : 32),
    workers: Math.max(1, num("workers", 1)),
    poolMax: Math.max(1, num("pool", 10)),
    only: (flags.get("only") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    profile: bool("profile"),
    soakMs: num("soak", 0) * 1000,
    serve: bool("serve"),
    useH2load: !bool("no-h2load"),
    outDir: flags.get("out") ?? new URL("../results", import.meta.url).pathname,
  };
}
