/**
 * The API documentation on the Connect port: `GET /openapi.json`, the
 * OpenAPI 3.1 document `npm run generate` makes from the protos
 * (gen/openapi/openapi.json), and `/docs/`, Swagger UI showing it, served
 * from the swagger-ui-dist package in node_modules — nothing is fetched from
 * the network, and its validator badge (which would send the document's URL
 * to swagger.io) is off.
 *
 * Public on purpose: the document says nothing server reflection (anonymous)
 * does not already tell about the contract, and its "Try it out" calls carry
 * the reader's own token, checked like any other call.
 *
 * Files are read once, when first asked for, and kept with their gzip and an
 * ETag (static-assets.ts).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HttpPage } from "./rpc/http-server.js";
import { assetOf, findUp, sendAsset, type Asset } from "./static-assets.js";

export interface ApiDocsOptions {
  /** The OpenAPI document (default: gen/openapi/openapi.json of this checkout). */
  readonly openApiFile?: string;
}

/** The Swagger UI files a page needs, by their name under /docs/. */
const SWAGGER_FILES: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>order-service API</title>
  <link rel="stylesheet" href="swagger-ui.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="favicon-16x16.png" sizes="16x16">
  <style>body { margin: 0; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-initializer.js"></script>
</body>
</html>
`;

/**
 * Swagger UI's settings: our document only (the base layout, without the bar
 * that loads any URL), its validator badge off (it would send the document's
 * URL to swagger.io).
 */
const INITIALIZER_JS = `window.onload = () => {
  window.ui = SwaggerUIBundle({
    url: new URL("../openapi.json", window.location.href).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
`;

/** Only our files run and load; Swagger UI styles elements inline and shows images as data: URLs. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function createApiDocs(opts: ApiDocsOptions = {}): HttpPage {
  const openApiFile = opts.openApiFile ?? findOpenApiFile();
  const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  /** What each path serves, read when first asked for. */
  const sources = new Map<string, () => Promise<Asset>>([
    ["/openapi.json", () => readAsset(openApiFile, "application/json; charset=utf-8")],
    ["/docs/", () => asset(Buffer.from(INDEX_HTML), "text/html; charset=utf-8")],
    ["/docs/swagger-initializer.js", () => asset(Buffer.from(INITIALIZER_JS), "text/javascript; charset=utf-8")],
    ...Object.entries(SWAGGER_FILES).map(([name, type]) => [`/docs/${name}`, () => readAsset(join(swaggerDir, name), type)] as const),
  ]);
  sources.set("/docs/index.html", sources.get("/docs/")!);
  const loaded = new Map<string, Promise<Asset>>();
  const load = (path: string, source: () => Promise<Asset>) => {
    let a = loaded.get(path);
    if (!a) {
      loaded.set(path, (a = source()));
      a.catch(() => loaded.delete(path)); // a failed read is tried again next time
    }
    return a;
  };

  return {
    handle(req, res) {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/docs") {
        const query = req.url!.slice(path.length);
        res.writeHead(301, { location: `/docs/${query}`, "content-length": "0" });
        res.end();
        return true;
      }
      const source = sources.get(path);
      if (!source && !path.startsWith("/docs/")) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
        res.end("405 method not allowed\n");
      } else if (!source) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
        res.end("404 not found\n");
      } else {
        load(path, source).then(
          (a) => sendAsset(req, res, a, { "x-content-type-options": "nosniff", ...(a.type.startsWith("text/html") && { "content-security-policy": CONTENT_SECURITY_POLICY }) }),
          () => {
            res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
            res.end(`500 ${path} cannot be read\n`);
          },
        );
      }
      return true;
    },
  };
}

async function readAsset(file: string, type: string): Promise<Asset> {
  return asset(await readFile(file), type);
}

/** Images are compressed already. */
const asset = (body: Buffer, type: string) => assetOf(body, type, !type.startsWith("image/"));

/**
 * gen/openapi/openapi.json of this checkout: the nearest directory up from
 * this file that has one — the repository root both for src/ (tsx) and for
 * dist/src/ (the compiled service).
 */
function findOpenApiFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(findUp(here, join("gen", "openapi", "openapi.json")) ?? here, "gen", "openapi", "openapi.json");
}
