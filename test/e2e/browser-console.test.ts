/**
 * The browser console (web/, src/platform/web-console.ts, README "Use it from
 * a browser") on the real stack: the app built by createApp as main.ts builds
 * it, serving a console freshly bundled by web/build.mjs into a temp
 * directory (never a stale dist/).
 *
 * - Serving: the page and its assets with their content types and CSP,
 *   nothing outside the directory, none of the service's own paths shadowed,
 *   demo identities to this machine only and only on the zero-setup default.
 * - In Debian's Chromium (playwright-core, /usr/bin/chromium, never a
 *   downloaded browser): the VIP customer orders, staff move the order to
 *   SHIPPED in a second page, the customer's page shows SHIPPED without a
 *   reload (WatchOrder), and a cancel after shipping shows
 *   ILLEGAL_TRANSITION; on a server with configured keys a pasted token is
 *   the way in. Screenshots go to test-artifacts/browser-console/.
 *
 * Without /usr/bin/chromium the browser part is skipped, except in CI
 * (CI set), where it fails: .ci/run installs Chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/platform/logger.js";
import { CONTENT_SECURITY_POLICY } from "../../src/platform/web-console.js";
import { buildWeb } from "../../web/build.mjs";
import { STAFF, testAuthConfig, tokenFor } from "../support/auth.js";
import { createTestDatabase } from "../support/db.js";
import { testConfig } from "../support/servers.js";

const CHROMIUM = "/usr/bin/chromium";
/** What Chromium needs as root in a container: no setuid sandbox, /tmp rather than a small /dev/shm, no GPU. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"];
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ARTIFACTS = join(ROOT, "test-artifacts", "browser-console");
const VIP = "22222222-2222-4222-8222-222222222222";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`browser-console: the Chromium part is SKIPPED: ${CHROMIUM} is missing (apt-get install chromium). CI runs it.`);
}

interface ConsoleServer {
  readonly app: App;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The app with demo data, serving the console from `webDir`. `zeroSetup`:
 * authentication as loadConfig makes it with nothing set (the generated
 * development key, which `npm start` uses); otherwise the test keys, as a
 * deployment with AUTH_PUBLIC_KEYS.
 */
async function startConsoleServer(webDir: string, zeroSetup: boolean): Promise<ConsoleServer> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "console-data-"));
  const auth = zeroSetup ? loadConfig({ DATA_DIR: dataDir }).auth : await testAuthConfig();
  // A UI test, not a deadline test: calls get 30 s, so a loaded CI box slows the page rather than refusing it.
  const config = await testConfig({ auth, dataDir, seedDemoData: true, defaultDeadlineMs: 30_000 });
  const app = await createApp(config, createLogger(config.logLevel), { database, webConsoleDir: webDir });
  const { httpPort } = await app.start();
  return {
    app,
    url: `http://127.0.0.1:${httpPort}`,
    async close() {
      await app.close();
      await database.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw HTTP/1.1 request: the path as written (fetch would normalise `..`) and any Host header. */
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

let webDir: string;
/** The zero-setup default (demo identities offered), and a server with configured keys (none offered). */
let server: ConsoleServer;
let configured: ConsoleServer;
beforeAll(async () => {
  webDir = mkdtempSync(join(tmpdir(), "console-web-"));
  await buildWeb({ outdir: webDir });
  [server, configured] = await Promise.all([startConsoleServer(webDir, true), startConsoleServer(webDir, false)]);
});
afterAll(async () => {
  await Promise.all([server?.close(), configured?.close()]);
  rmSync(webDir, { recursive: true, force: true });
});

describe("serving the console", () => {
  it("serves the page at / and its assets under /console/, with their content types and a strict CSP", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await page.text();
    expect(html).toContain('src="/console/console.js"');
    expect(html).not.toMatch(/<script>|<style>| on[a-z]+=/); // nothing inline: the CSP would refuse it

    const js = await fetch(`${server.url}/console/console.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await js.text()).length).toBeGreaterThan(10_000);
    const css = await fetch(`${server.url}/console/console.css?v=1`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const again = await fetch(`${server.url}/console/console.css`, { headers: { "if-none-match": css.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${server.url}/`, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${server.url}/`, { method: "POST", body: "{}" })).status).toBe(405);
  });

  it("answers nothing outside its directory", async () => {
    for (const path of [
      "/console/../package.json",
      "/console/..%2fpackage.json",
      "/console/%2e%2e/%2e%2e/package.json",
      "/console/.build-stamp",
      "/console//etc/passwd",
      "/console/",
      "/console/nope.js",
    ]) {
      const res = await rawGet(server.url, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain('"name"');
    }
  });

  it("shadows none of the service's own paths", async () => {
    const listed = await fetch(`${server.url}/inventory.v1.InventoryService/ListProducts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { products: unknown[] }).products).toHaveLength(4);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    for (const path of ["/events", "/docs", "/openapi.json", "/orders.v1.OrderService/GetOrder", "/console"]) {
      const res = await fetch(`${server.url}${path}`);
      expect({ path, console: res.headers.get("content-security-policy") === CONTENT_SECURITY_POLICY }).toEqual({ path, console: false });
    }
  });

  it("hands the demo identities, whose tokens the service accepts, to a browser on this machine only", async () => {
    const res = await fetch(`${server.url}/console/demo-identities`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { identities } = (await res.json()) as { identities: { key: string; role: string; customerId?: string; token: string }[] };
    expect(identities.map((i) => [i.key, i.role, i.customerId])).toEqual([
      ["grace", "customer", VIP],
      ["ada", "customer", "11111111-1111-4111-8111-111111111111"],
      ["staff", "staff", undefined],
    ]);
    const staff = identities.find((i) => i.role === "staff")!;
    const listed = await fetch(`${server.url}/orders.v1.OrderService/ListOrders`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${staff.token}` },
      body: "{}",
    });
    expect(listed.status).toBe(200);

    // A page elsewhere whose name now resolves to 127.0.0.1 (DNS rebinding) still sends its own Host.
    const port = new URL(server.url).port;
    for (const host of [`evil.example:${port}`, `192.168.1.10:${port}`, `localhost.evil.example:${port}`]) {
      const refused = await rawGet(server.url, "/console/demo-identities", { host });
      expect({ host, identities: JSON.parse(refused.body).identities }).toEqual({ host, identities: [] });
    }
    // A page on another origin (which CORS, if configured, would let read the answer).
    const crossOrigin = await rawGet(server.url, "/console/demo-identities", { host: `localhost:${port}`, origin: "https://evil.example" });
    expect(JSON.parse(crossOrigin.body).identities).toEqual([]);
    const local = await rawGet(server.url, "/console/demo-identities", { host: `localhost:${port}` });
    expect(JSON.parse(local.body).identities).toHaveLength(3);
  });

  it("offers no demo identities where token keys are configured", async () => {
    const res = await fetch(`${configured.url}/console/demo-identities`);
    const body = (await res.json()) as { identities: unknown[]; message: string };
    expect(body.identities).toEqual([]);
    expect(body.message).toMatch(/does not hand out demo identities/);
    expect((await fetch(`${configured.url}/`)).status).toBe(200);
  });
});

describe.skipIf(!haveChromium && !process.env.CI)("the console in Chromium", () => {
  let browser: Browser;
  /**
   * Errors any page logged (a CSP violation, an exception): none is expected.
   * Chromium also logs every non-2xx answer, which a refused RPC is (Connect
   * maps codes to HTTP statuses): those are the test's point, not errors.
   */
  const pageErrors: string[] = [];
  const isRefusedCall = (text: string) => text.startsWith("Failed to load resource: the server responded with a status of");

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI is set and ${CHROMIUM} is missing: .ci/run must install it (apt-get install -y chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  beforeEach(() => {
    pageErrors.length = 0;
  });
  afterAll(() => browser?.close());

  const open = async (url: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on("console", (m) => m.type() === "error" && !isRefusedCall(m.text()) && pageErrors.push(`${page.url()}: ${m.text()}`));
    page.on("pageerror", (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    await page.goto(url);
    return { context, page };
  };

  const actAs = async (page: Page, key: string, shows: string) => {
    await page.getByLabel("Act as").selectOption(key);
    await page.locator("#whoami", { hasText: shows }).waitFor();
  };

  it("the VIP customer orders, staff ship it in a second page, the customer sees SHIPPED live, and a late cancel shows ILLEGAL_TRANSITION", async () => {
    const { context: customerContext, page: customer } = await open(`${server.url}/`);
    const { context: staffContext, page: staff } = await open(`${server.url}/`);
    try {
      // The VIP customer (demo identity): her name and tier from GetCustomer, then an order.
      await actAs(customer, "grace", "VIP customer");
      expect(await customer.locator("#whoami").textContent()).toContain(`customer ${VIP}`);
      // A catalog refresh that answers after the customer typed keeps what she typed.
      await customer.route("**/inventory.v1.InventoryService/ListProducts", async (route) => {
        await new Promise((r) => setTimeout(r, 500));
        await route.continue();
      });
      const refreshed = customer.waitForResponse((r) => r.url().endsWith("/ListProducts"));
      await customer.getByRole("button", { name: "Refresh products" }).click();
      await customer.getByLabel("Quantity of Coffee mug").fill("2");
      await refreshed;
      // Waits for the delaying handler still running for the identity switch's own ListProducts, if any.
      await customer.unrouteAll({ behavior: "wait" });
      await customer.waitForTimeout(50); // the answer's handler has run
      expect(await customer.getByLabel("Quantity of Coffee mug").inputValue()).toBe("2");
      await customer.getByRole("button", { name: "Place order" }).click();
      // The order's notice, or — so a failure says why — the refusal the page shows instead.
      const placed = customer.getByRole("status").filter({ hasText: "placed: CONFIRMED" });
      const refused = customer.getByRole("alert").filter({ hasText: /\S/ });
      await placed.or(refused).first().waitFor();
      expect(await refused.count(), `the page refused the order: ${await refused.allTextContents()}`).toBe(0);
      await customer.locator("#watch-status", { hasText: "CONFIRMED" }).waitFor();
      await customer.locator("#watch-stream", { hasText: "live" }).waitFor();
      expect(await customer.locator("#watch-payment").textContent()).toBe("Payment: PENDING");
      const orderId = (await customer.locator("#watch-heading").getAttribute("title"))!;
      const short = orderId.slice(0, 8);
      let navigations = 0;
      customer.on("framenavigated", () => navigations++);

      // Staff move it along in their own page.
      await actAs(staff, "staff", "staff demo-staff");
      await staff.getByRole("button", { name: `Manage order ${short}` }).click();
      await staff.getByRole("button", { name: "Start processing" }).click();
      await staff.locator("#manage-status", { hasText: "PROCESSING" }).waitFor();
      await staff.getByLabel("Carrier").fill("UPS");
      await staff.getByLabel("Tracking number").fill("1Z999");
      await staff.getByRole("button", { name: "Save shipping info" }).click();
      await staff.locator("#manage-shipping", { hasText: "UPS 1Z999" }).waitFor();
      await staff.getByRole("button", { name: "Mark shipped" }).click();
      await staff.locator("#manage-status", { hasText: "SHIPPED" }).waitFor();
      await staff.screenshot({ path: join(ARTIFACTS, "staff-shipped.png"), fullPage: true });

      // The customer's page, never reloaded, follows over WatchOrder.
      await customer.locator("#watch-status", { hasText: "SHIPPED" }).waitFor({ timeout: 15_000 });
      expect(await customer.locator("#watch-shipping").textContent()).toContain("UPS, tracking 1Z999");
      expect(await customer.locator("#watch-history").textContent()).toContain("staff:demo-staff");
      expect(await customer.locator(`#orders-body tr[data-order="${orderId}"]`).textContent()).toContain("SHIPPED");
      expect(navigations).toBe(0);

      // Too late to cancel: the refusal shows its code and reason.
      await customer.getByRole("button", { name: `Cancel order ${short}` }).click();
      const alert = customer.getByRole("alert");
      await alert.filter({ hasText: "ILLEGAL_TRANSITION" }).waitFor();
      expect(await alert.textContent()).toContain("FAILED_PRECONDITION");
      expect(await alert.textContent()).toContain("current status is SHIPPED");
      await customer.screenshot({ path: join(ARTIFACTS, "customer-shipped-and-refused.png"), fullPage: true });

      // Every form control has an accessible name.
      const unnamed = await customer.evaluate(() => {
        const doc = (globalThis as any).document; // runs in the page (this project's types are Node's)
        return [...doc.querySelectorAll("input, select, textarea, button")]
          .filter((el: any) => !el.labels?.length && !el.getAttribute("aria-label") && !el.textContent?.trim())
          .map((el: any) => el.outerHTML as string);
      });
      expect(unnamed).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await customerContext.close();
      await staffContext.close();
    }
  });

  it("on a server with configured keys the page offers no demo identities, and a pasted token is the way in", async () => {
    const { context, page } = await open(`${configured.url}/`);
    try {
      await page.locator("#identity-source", { hasText: "No demo identities here" }).waitFor();
      expect(await page.locator("#identity option").count()).toBe(1); // anonymous only
      await page.getByLabel("Bearer token").fill(await tokenFor(STAFF));
      await page.getByRole("button", { name: "Use this token" }).click();
      await page.locator("#whoami", { hasText: `staff ${STAFF.id}` }).waitFor();
      await page.locator("#orders-empty", { hasText: "No orders yet." }).waitFor();

      await page.getByLabel("Bearer token").fill("not.a.token");
      await page.getByRole("button", { name: "Use this token" }).click();
      await page.getByRole("alert").filter({ hasText: "That token cannot be used" }).waitFor();
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
