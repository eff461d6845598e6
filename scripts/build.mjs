// Compiles the service to JavaScript in dist/ (tsc -p tsconfig.build.json) and
// copies migrations/ next to it, so `node dist/src/main.js` runs with neither
// tsx nor TypeScript loaded (the start-up compiler cost ~60 MB of RSS).
//
//   npm run build                     always runs tsc (incremental)
//   node scripts/build.mjs --if-stale  (npm's prestart) does nothing when dist/
//                                     is newer than every input, else builds
//
// Plain JavaScript on purpose: it runs before anything is compiled.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const stamp = join(dist, ".build-stamp");
/** Everything the output depends on; directories count too (a rename or delete changes their mtime). */
const inputs = ["src", "gen", "migrations", "tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json"];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function upToDate() {
  if (!existsSync(stamp) || !existsSync(join(dist, "src", "main.js"))) return false;
  const built = statSync(stamp).mtimeMs;
  return inputs.every((p) => newestMtime(join(root, p)) <= built);
}

if (process.argv.includes("--if-stale") && upToDate()) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  process.stderr.write("build: dist/ is missing or stale and TypeScript is not installed; run `npm install` (with dev dependencies) first\n");
  process.exit(1);
}
const t0 = performance.now();
// The stamp carries the time the build started: an input edited while tsc runs stays newer than it.
const startedAt = new Date();
const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  rmSync(stamp, { force: true });
  process.stderr.write(`build: tsc failed (exit ${result.status ?? result.signal})\n`);
  process.exit(1);
}
// src/platform/db.ts finds migrations at ../../migrations from itself: dist/migrations.
rmSync(join(dist, "migrations"), { recursive: true, force: true });
cpSync(join(root, "migrations"), join(dist, "migrations"), { recursive: true });
writeFileSync(stamp, `${startedAt.toISOString()}\n`);
utimesSync(stamp, startedAt, startedAt);
process.stderr.write(`build: dist/ compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
