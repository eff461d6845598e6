import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * Files known to take minutes, started first. Without a results cache (every CI run starts from a
 * fresh clone) vitest starts the largest files first, and bench-smoke is small: on Postgres (one
 * `npm run bench --quick`, ~5 min) it was the last file to finish, alone on its worker for the last
 * minutes of the run. Started first, the Postgres suite took 548 s instead of 601 s. Starting four
 * more long files first as well moved the PGlite suite from 570 to 623 s (they then ran together,
 * competing for the two cores), so only bench-smoke is listed; it is skipped on PGlite.
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
