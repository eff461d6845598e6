/**
 * The API docs page (src/platform/api-docs.ts) on a plain HTTP server:
 * /openapi.json is the committed document; /docs/ is Swagger UI, every file
 * it loads served from node_modules; ETags revalidate, gzip is offered, and
 * nothing else is answered (other paths pass on, other verbs are refused).
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPENAPI_FILE } from "../../../scripts/openapi/check.js";
import { createApiDocs } from "../../../src/platform/api-docs.js";

let server: http.Server;
let base: string;

/** Serves the page; what it passes on gets 418. */
async function serve(page = createApiDocs()) {
  const s = http.createServer((req, res) => {
    if (!page.handle(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  ({ server, base } = await serve());
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the API docs page", () => {
  it("serves the committed OpenAPI document at /openapi.json, with an ETag that revalidates", async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(await res.text()).toBe(readFileSync(OPENAPI_FILE, "utf8"));
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${base}/openapi.json`, { headers: { "if-none-match": `W/"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("gzips for clients that accept it", async () => {
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`${base}/openapi.json`, { headers: { "accept-encoding": "gzip, br" } }, resolve));
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.headers.vary).toBe("accept-encoding");
    expect(gunzipSync(Buffer.concat(chunks)).toString("utf8")).toBe(readFileSync(OPENAPI_FILE, "utf8"));
  });

  it("redirects /docs to /docs/, a Swagger UI page whose every file is served, pointed at /openapi.json", async () => {
    const redirect = await fetch(`${base}/docs?x=1`, { redirect: "manual" });
    expect([redirect.status, redirect.headers.get("location")]).toEqual([301, "/docs/?x=1"]);
    const page = await fetch(`${base}/docs/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    const files = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(files).toEqual(expect.arrayContaining(["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"]));
    for (const file of files) {
      const res = await fetch(new URL(file, `${base}/docs/`));
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type"), file).toMatch(/^(text\/css|text\/javascript|image\/png)/);
      expect((await res.arrayBuffer()).byteLength, file).toBeGreaterThan(100);
    }
    const init = await (await fetch(`${base}/docs/swagger-initializer.js`)).text();
    expect(init).toContain('new URL("../openapi.json", window.location.href)');
    expect(init).toContain("validatorUrl: null"); // no badge from swagger.io
  });

  it("answers HEAD without a body", async () => {
    const res = await fetch(`${base}/docs/swagger-ui-bundle.js`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(100_000);
    expect(await res.text()).toBe("");
  });

  it("refuses other verbs and unknown files, and passes on every other path", async () => {
    expect((await fetch(`${base}/openapi.json`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}/docs/package.json`)).status).toBe(404);
    expect((await fetch(`${base}/docs/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/orders.v1.OrderService/GetOrder`, { method: "POST" })).status).toBe(418);
    expect((await fetch(`${base}/`)).status).toBe(418);
    expect((await fetch(`${base}/openapi.jsonx`)).status).toBe(418);
  });

  it("answers 500 when the document cannot be read", async () => {
    const broken = await serve(createApiDocs({ openApiFile: "/nonexistent/openapi.json" }));
    try {
      expect((await fetch(`${broken.base}/openapi.json`)).status).toBe(500);
    } finally {
      await new Promise<void>((resolve) => broken.server.close(() => resolve()));
    }
  });
});
