/**
 * `npm run bench` cannot silently break: run it at the tiny --quick scale
 * (on DATABASE_URL's Postgres when set, PGlite otherwise) and check that it
 * finishes and writes results with throughput in every row and no errors —
 * with authentication on, so also none from a wrong caller — plus the auth
 * on/off rows and the per-call authentication cost. No timing is asserted —
 * only that the harness works end to end.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../bench/lib/report.js";
import { limitsLegsOf } from "../../bench/lib/targets.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "bench-smoke-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function runBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "--quick", "--out", out],
      { cwd: root, env: process.env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
    child.stdin?.end();
  });
}

// .ci/run sets BENCH_SMOKE=skip for its PGlite run only: its Postgres run runs this test.
describe.skipIf(process.env.BENCH_SMOKE === "skip")("npm run bench --quick", () => {
  it("finishes and writes the table, JSON and chart with throughput and no errors", { timeout: 600_000 }, async () => {
    const { code, output } = await runBench();
    expect(code, output).toBe(0);
    for (const f of ["results.json", "results.md", "chart.svg"]) expect(existsSync(join(out, f)), f).toBe(true);

    const report = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as RunReport;
    const scenarios = new Set(report.rows.map((r) => r.scenario));
    for (const s of ["noop (plain grpc-js)", "noop (our stack)", "get-order", "list-orders", "create-order", "mixed 80/10/10"]) {
      expect(scenarios, s).toContain(s);
    }
    for (const s of ["create-order", "get-order"]) {
      for (const leg of ["on, before", "off", "on, after"]) expect(scenarios, `${s} (auth ${leg})`).toContain(`${s} (auth ${leg})`);
      for (const leg of limitsLegsOf({ quick: true })) expect(scenarios, `${s} (limits ${leg})`).toContain(`${s} (limits ${leg})`);
    }
    for (const leg of limitsLegsOf({ quick: true })) expect(scenarios).toContain(`get-order (metrics ${leg})`);
    for (const leg of limitsLegsOf({ quick: true })) expect(scenarios).toContain(`get-order (tracing ${leg})`);
    // The relay legs need a Redis (CI starts one; elsewhere the bench says it skipped them).
    if (process.env.CI || report.relay) {
      for (const leg of limitsLegsOf({ quick: true })) expect(scenarios).toContain(`create-order (relay ${leg})`);
      // Drains are timed only when a leg found 100 events or more waiting: at --quick scale there may be none.
      expect(report.relay).toBeDefined();
    }
    for (const row of report.rows.filter((r) => r.group !== "overload")) {
      expect(row.rps, row.id).toBeGreaterThan(0);
      expect(row.errors, row.id).toEqual({});
      // The note holds a sample error even from the warm-up: no call may be refused for its caller.
      expect(row.note ?? "", row.id).not.toMatch(/unauthenticated|permission_?denied|not_?found/i);
    }
    // Overload sheds on purpose: only with UNAVAILABLE (OVERLOADED) or a deadline, never INTERNAL or a caller's fault.
    const overload = report.rows.filter((r) => r.group === "overload");
    expect(overload.map((r) => r.scenario)).toEqual([
      "overload unloaded (VIP)",
      "overload unloaded (STANDARD)",
      "overload 2x (VIP)",
      "overload 2x (STANDARD)",
    ]);
    // At --quick scale on PGlite the 2× leg can end in client deadlines only (BENCHMARKS.md): no throughput is asserted.
    for (const row of overload) {
      for (const key of Object.keys(row.errors)) expect(key, row.id).toMatch(/^(Unavailable OVERLOADED|DeadlineExceeded .*|CLIENT_BACKLOG)$/);
    }
    expect(report.reflection.ghzConfigs.length).toBeGreaterThanOrEqual(4);
    expect(report.targets.length).toBeGreaterThan(0);
    for (const name of [
      "CreateOrder auth on vs auth off (gRPC, node)",
      "GetOrder auth on vs auth off (gRPC, node)",
      "CreateOrder limits on vs off (gRPC, node)",
      "GetOrder limits on vs off (gRPC, node)",
      "GetOrder metrics on vs off (gRPC, node)",
      "GetOrder tracing on vs off (gRPC, node)",
    ]) {
      expect(report.targets.find((t) => t.name === name)?.status, name).toMatch(/^(met|missed)$/);
    }
    expect(report.auth.customerTokens).toBe(report.seed.customers);
    const v = report.auth.verify;
    for (const us of [v.firstUs, v.hitManyTokensUs, v.hitOneTokenUs]) expect(Number.isFinite(us) && us > 0).toBe(true);
    expect(readFileSync(join(out, "results.md"), "utf8")).toContain("## Authentication");
    expect(readFileSync(join(out, "chart.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });
});
