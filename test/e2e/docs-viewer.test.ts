/**
 * The /docs viewer in a real browser (Debian's chromium via playwright-core): it renders every
 * operation of the document, loads nothing from another origin, and its CSP reports nothing.
 * Skipped with a warning where /usr/bin/chromium is missing, failed in CI. Screenshot in
 * test-artifacts/docs/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { guardedApp } from "../api/auth/harness";
import { request } from "../support/test-app";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true" || process.env.CI === "1";
if (!haveChromium && !inCi) console.warn(`test/e2e/docs-viewer.test.ts skipped: no ${CHROMIUM}; install it with: apt-get install -y chromium`);
const artifacts = resolve(import.meta.dir, "..", "..", "test-artifacts", "docs");

const guarded = await guardedApp();
const { app } = guarded;
let server: ReturnType<typeof Bun.serve>;
let browser: Browser;

describe.skipIf(!haveChromium && !inCi)("/docs viewer", () => {
  beforeAll(async () => {
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (incoming) => app.handle(incoming) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  });
  afterAll(async () => {
    await browser?.close();
    server?.stop(true);
    guarded[Symbol.dispose]();
  });

  test("Should render every operation of the document from this server alone - no other origin, no CSP violation", async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    const page = await browser.newPage();
    const foreign: string[] = [];
    const problems: string[] = [];
    page.on("request", (sent) => void (sent.url().startsWith(origin) || sent.url().startsWith("data:") || foreign.push(sent.url())));
    page.on("console", (message) => void (message.type() === "error" && problems.push(message.text())));
    page.on("pageerror", (error) => void problems.push(error.message));
    await page.goto(`${origin}/docs`);
    await page.waitForSelector("main details");

    const document = (await (await app.handle(request("/docs/openapi.json"))).json()) as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((count, item) => count + Object.keys(item).length, 0);
    expect(await page.locator("main > details").count()).toBe(operations);
    expect(await page.locator("main > details .path", { hasText: "/health" }).count()).toBe(1);
    expect(await page.title()).toBe("Enclave API");
    expect({ foreign, problems }).toEqual({ foreign: [], problems: [] });
    await page.locator("main > details", { hasText: "/v1/chat/completions" }).locator("summary").first().click();
    await expect(page.locator("main > details[open] h4", { hasText: "Request body" }).count()).resolves.toBe(1);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: resolve(artifacts, "docs.png"), fullPage: false });
  }, 30_000);
});

test("Should answer /docs with the viewer for a browser and the document for a client generator - same URL", async () => {
  const page = await app.handle(request("/docs", { headers: { accept: "text/html,application/xhtml+xml" } }));
  expect(page.headers.get("content-type")).toStartWith("text/html");
  expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
  const html = await page.text();
  expect(html).toContain('<script src="/docs/viewer.js"');
  for (const asset of ["/docs", "/docs/viewer.js", "/docs/viewer.css"]) {
    const text = asset === "/docs" ? html : await (await app.handle(request(asset))).text();
    expect({ asset, urls: text.match(/https?:\/\/[^\s"'`)]+/g) ?? [] }).toEqual({ asset, urls: [] });
  }
  expect(((await (await app.handle(request("/docs", { headers: { accept: "application/json" } }))).json()) as { openapi: string }).openapi).toStartWith("3.1");
});
