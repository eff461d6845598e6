// Builds the browser console (README "Use it from a browser") into a
// directory the service serves at / (src/platform/web-console.ts):
//
//   index.html     the page (copied)
//   console.js     web/src/main.ts bundled with esbuild (connect-web, gen/), + console.js.map
//   console.css    web/console.css
//
//   node web/build.mjs [outdir]              standalone; outdir defaults to dist/web
//   import { buildWeb } from "./web/build.mjs"; await buildWeb({ outdir })
//
// Plain JavaScript on purpose, like scripts/build.mjs: it runs before anything
// is compiled. esbuild is a devDependency: the page is built at build time,
// never by the running service.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Where the service looks for the console by default: dist/web of this package. */
export const DEFAULT_OUTDIR = resolve(here, "..", "dist", "web");

/**
 * Bundles and copies the console into `outdir` (replacing what was there) and
 * returns the files written. Minified, with a linked source map.
 */
export async function buildWeb({ outdir = DEFAULT_OUTDIR, minify = true } = {}) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [
      { in: join(here, "src", "main.ts"), out: "console" },
      { in: join(here, "console.css"), out: "console" },
    ],
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    tsconfig: join(here, "tsconfig.json"),
    minify,
    sourcemap: "linked",
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
  });
  await copyFile(join(here, "index.html"), join(outdir, "index.html"));
  const files = ["index.html", ...Object.keys(result.metafile.outputs).map((p) => p.slice(p.lastIndexOf("/") + 1))];
  return { outdir, files: files.sort() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const t0 = performance.now();
  const { outdir, files } = await buildWeb({ outdir: process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUTDIR });
  process.stderr.write(`build: browser console (${files.length} files) in ${outdir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
