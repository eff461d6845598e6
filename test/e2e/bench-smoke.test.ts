/**
 * `npm run bench` cannot silently break: run it at the tiny --quick scale
 * (on DATABASE_URL's Postgres when set, PGlite otherwise) and check that it
 * finishes and writes results with throughput in every row and no errors.
 * No timing is asserted — only that the harness works end to end.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../bench/lib/report.js";

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

describe("npm run bench --quick", () => {
  it("finishes and writes the table, JSON and chart with throughput and no errors", { timeout: 600_000 }, async () => {
    const { code, output } = await runBench();
    expect(code, output).toBe(0);
    for (const f of ["results.json", "results.md", "chart.svg"]) expect(existsSync(join(out, f)), f).toBe(true);

    const report = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as RunReport;
    const scenarios = new Set(report.rows.map((r) => r.scenario));
    for (const s of ["noop (plain grpc-js)", "noop (our stack)", "get-order", "list-orders", "create-order", "mixed 80/10/10"]) {
      expect(scenarios, s).toContain(s);
    }
    for (const row of report.rows) {
      expect(row.rps, row.id).toBeGreaterThan(0);
      expect(row.errors, row.id).toEqual({});
    }
    expect(report.reflection.ghzConfigs.length).toBeGreaterThanOrEqual(4);
    expect(report.targets.length).toBeGreaterThan(0);
    expect(readFileSync(join(out, "chart.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });
});
