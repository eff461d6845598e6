import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

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
    reporters: ["default"],
  },
});
