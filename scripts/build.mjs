// Builds dist/: every .ts file of src/ and gen/ transpiled to JavaScript by
// esbuild, file by file (dist/src/main.js, dist/src/instrumentation.js,
// dist/gen/...: the same tree and imports as the sources), migrations/ copied
// next to it, and the browser console (web/build.mjs) bundled into dist/web.
// `node dist/src/main.js` then runs with neither tsx nor TypeScript loaded
// (the start-up compiler cost ~60 MB of RSS).
//
//   npm run build                      always builds (about a second)
//   node scripts/build.mjs --if-stale  (npm's prestart) does nothing when dist/
//                                      is newer than every input, else builds
//
// esbuild strips types without checking them: a syntax error fails the build,
// a type error does not (`npm run typecheck` and CI catch those). Each file is
// transpiled alone, which tsconfig.json's verbatimModuleSyntax makes safe.
// Not bundled: node_modules load as themselves, so OpenTelemetry's
// require/import-in-the-middle hooks (src/instrumentation.ts) see them, and
// each module keeps its own import.meta.url (src/platform/db.ts finds
// migrations/ from it).
//
// Plain JavaScript on purpose: it runs before anything is compiled.
import { cpSync, existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const stamp = join(dist, ".build-stamp");
/** The service's code: every .ts file under these (its tree is kept in dist/). */
const sources = ["src", "gen"];
/** Optional: the browser console's build, when the repository has one. */
const webBuild = join(root, "web", "build.mjs");
/** Everything the output depends on; directories count too (a rename or delete changes their mtime). */
const inputs = [...sources, "migrations", "web", "scripts/build.mjs", "tsconfig.json", "package.json", "package-lock.json"];

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
  if (existsSync(webBuild) !== existsSync(join(dist, "web"))) return false; // web/ added or removed
  const built = statSync(stamp).mtimeMs;
  return inputs.every((p) => newestMtime(join(root, p)) <= built);
}

/** Files under `dir` (absolute paths) whose name passes `keep`. */
function filesUnder(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

if (process.argv.includes("--if-stale") && upToDate()) process.exit(0);

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  process.stderr.write("build: dist/ is missing or stale and esbuild is not installed; run `npm install` (with dev dependencies) first\n");
  process.exit(1);
}
const t0 = performance.now();
// The stamp carries the time the build started: an input edited while it runs stays newer than it.
const startedAt = new Date();
const entryPoints = sources.flatMap((dir) => filesUnder(join(root, dir), (name) => name.endsWith(".ts") && !name.endsWith(".d.ts")));
const withWeb = existsSync(webBuild);
let service;
try {
  [service] = await Promise.all([
    esbuild.build({
      absWorkingDir: root,
      entryPoints,
      outdir: dist,
      outbase: root,
      bundle: false,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: true,
      metafile: true,
      logLevel: "warning",
    }),
    withWeb ? import(pathToFileURL(webBuild).href).then(({ buildWeb }) => buildWeb({ outdir: join(dist, "web") })) : undefined,
  ]);
} catch (err) {
  // esbuild has printed its errors (file:line:column) already; anything else has not.
  if (!Array.isArray(err?.errors)) process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  rmSync(stamp, { force: true });
  process.stderr.write("build: failed, see above; dist/ is not up to date\n");
  process.exit(1);
}
if (!withWeb) rmSync(join(dist, "web"), { recursive: true, force: true });
// A source deleted or renamed since the last build leaves no stale module behind.
const written = new Set(Object.keys(service.metafile.outputs).map((p) => join(root, p)));
for (const dir of sources) {
  for (const file of filesUnder(join(dist, dir), () => true)) if (!written.has(file)) rmSync(file);
}
rmSync(join(dist, ".tsbuildinfo"), { force: true }); // tsc's, from builds before esbuild
// src/platform/db.ts finds migrations at ../../migrations from itself: dist/migrations.
rmSync(join(dist, "migrations"), { recursive: true, force: true });
cpSync(join(root, "migrations"), join(dist, "migrations"), { recursive: true });
writeFileSync(stamp, `${startedAt.toISOString()}\n`);
utimesSync(stamp, startedAt, startedAt);
const what = `${entryPoints.length} modules${withWeb ? ", the browser console" : ""}`;
process.stderr.write(`build: dist/ built in ${((performance.now() - t0) / 1000).toFixed(1)} s (${what}; types are checked by npm run typecheck)\n`);
