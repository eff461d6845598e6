import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * Files known to take minutes, started first. Without a results cache (every CI run starts from a
 * fresh clone) vitest starts the largest files first, and bench-smoke is small: on Postgres (one
 * `npm run bench --quick`, ~5 min) it was the last file to finish, alone on its worker for the last
 * minutes of the run (Postgres suite 601 s; 548 and 570 s in the two runs with it first, on a host
 * that slowed through that afternoon — the PGlite suite, whose order this does not change, went
 * 570 → 623 → 666 s meanwhile). Skipped on PGlite.
 */
const SLOW_FIRST = ["test/e2e/bench-smoke.test.ts"];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.indexOf(relative(process.cwd(), f.moduleId).replaceAll("\\", "/"));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    // Stable: the rest keep vitest's order.
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test files wait on sockets, timers and the database rather than the CPU: one more
    // worker than cores (vitest's default is one fewer) halves the run on a 2-core machine
    // (PGlite suite 418 s → 230 s, all passing). Tests assert counts, never times.
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: SlowFirst },
    reporters: ["default"],
  },
});
