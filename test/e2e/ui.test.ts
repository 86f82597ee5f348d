/**
 * The console in a real browser: Debian's chromium driven by playwright-core against a real
 * server on 127.0.0.1 (startEnclave wired as `enclave serve` wires it), serving the tiny forged
 * target+draft pair through the llama.cpp engine. Screenshots go to test-artifacts/ui/.
 *
 * Without /usr/bin/chromium the test fails in CI (CI=true) and is skipped with a warning elsewhere;
 * `apt-get install chromium` provides it (.ci/run does).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { cliActor } from "../../src/accounts/actor";
import { configSchema, type Config } from "../../src/config/schema";
import { expectedChatReply, forgePair, resolveForgeOptions } from "../../src/forge";
import { createLlamaEngine } from "../../src/inference/llama-engine";
import { createUsageRecorder } from "../../src/metering/usage-recorder";
import { createSqliteUsageRepository } from "../../src/store/sqlite-usage-repository";
import { createStoreHealth } from "../../src/db/store-health";
import { startEnclave, type RunningEnclave } from "../../src/serve/start-enclave";
import { memoryLogger } from "../support/test-app";
import { sharedLlama } from "../model/inference/tiny-pair";
import { sqliteAccountServices } from "../support/sqlite-account-services";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const artifacts = resolve(import.meta.dir, "..", "..", "test-artifacts", "ui");
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true" || process.env.CI === "1";
if (!haveChromium && !inCi) console.warn(`test/e2e/ui.test.ts skipped: no ${CHROMIUM}; install it with: apt-get install -y chromium`);

const forgeOptions = resolveForgeOptions("tiny");
/** Sent in prompts: it must never appear on any page of the console. */
const CANARY = "zebra-canary-ui-5d1e";
let dir: string;
let enclave: RunningEnclave;
let browser: Browser;
let adminSecret: string;
let userSecret: string;

async function startServer(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "enclave-ui-e2e-"));
  const manifest = await forgePair(forgeOptions, join(dir, "models"));
  const draft = { path: join(dir, "models", manifest.draft.file), min_tokens: 1, max_tokens: 8, min_confidence: 0, threads: 1, adaptive: true };
  const config: Config = configSchema.parse({
    server: { host: "127.0.0.1", port: 0, shutdown_grace_seconds: 1 },
    storage: { data_dir: join(dir, "data") },
    engine: { gpu: "cpu", max_threads: 2 },
    models: [{ id: "tiny", path: join(dir, "models", manifest.target.file), default: true, context_size: 256, parallel: 2, threads: 1, speculative: "draft", draft }],
    residency: { region: "eu-test-1" },
  });
  const { logger } = memoryLogger("warn");
  const llama = sharedLlama();
  enclave = await startEnclave({
    config,
    logger,
    createEngine: async (engineConfig) => createLlamaEngine({ config: engineConfig, logger, loadLlama: () => llama }),
  });
  await enclave.ready;

  // The bootstrap the README describes (`enclave keys create --role admin`), on the same store.
  const cli = cliActor("e2e");
  const db = enclave.store.sqlite!.db;
  const { keys, accounts } = sqliteAccountServices(db, config.auth.pepper);
  const root = await accounts.ensureDefault(cli);
  adminSecret = (await keys.create(cli, { name: "console-admin", role: "admin", account_id: root.id })).secret;
  const user = await keys.create(cli, { name: "batch-jobs", role: "user", account_id: root.id });
  userSecret = user.secret;

  // Two weeks of metered history (metadata only), so the usage chart has something to draw.
  const recorder = createUsageRecorder({ usage: createSqliteUsageRepository(db), health: createStoreHealth() });
  const day = 86_400_000;
  for (let daysAgo = 12; daysAgo >= 1; daysAgo--)
    for (let i = 0; i < 1 + (daysAgo % 4); i++)
      await recorder.record({
        id: `seed-${daysAgo}-${i}`,
        keyId: user.key.id,
        accountId: root.id,
        endpoint: "POST /v1/chat/completions",
        model: "tiny",
        startedAt: new Date(Date.now() - daysAgo * day),
        queueMs: 0,
        ttftMs: 20,
        durationMs: 400,
        promptTokens: 40 + daysAgo * 3,
        cachedTokens: 0,
        completionTokens: 60 + ((daysAgo * 37) % 90),
        draftTokensAccepted: null,
        costMicros: 0,
        status: daysAgo === 5 && i === 0 ? 429 : 200,
        errorCode: daysAgo === 5 && i === 0 ? "rate_limit_exceeded" : null,
        clientIp: null,
      });
  // And some live traffic today, through the API: three replies and one request for a model that does not exist (a 404).
  const live: [string, string, number][] = [
    ["tiny", `hello ${CANARY}`, 200],
    ["tiny", "count", 200],
    ["tiny", "more", 200],
    ["no-such-model", CANARY, 404],
  ];
  for (const [model, content, expected] of live) {
    const response = await fetch(new URL("/v1/chat/completions", enclave.url), {
      method: "POST",
      headers: { authorization: `Bearer ${userSecret}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content }], max_tokens: 24 }),
    });
    if (response.status !== expected) throw new Error(`seeding /v1/chat/completions answered ${response.status}, not ${expected}`);
  }
}

/** Signs a fresh browser context in with the admin key and waits for the overview. */
async function signIn(page: Page, origin: string) {
  await page.goto(`${origin}/ui`);
  await page.getByLabel("Admin or manager API key").fill(adminSecret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
}

beforeAll(async () => {
  if (!haveChromium) return;
  mkdirSync(artifacts, { recursive: true });
  [browser] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }), startServer()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await enclave?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** Colored (not white, not grey) pixels on a page's first uPlot canvas: the series a chart drew. */
const drawnPixels = (page: Page, scope = "body") =>
  page.evaluate((selector) => {
    const canvas = document.querySelector(`${selector} .uplot canvas`) as HTMLCanvasElement | null;
    if (canvas == null) return 0;
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let colored = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) colored++;
    }
    return colored;
  }, scope);

describe("the console at /ui in Debian's chromium", () => {
  test.skipIf(!haveChromium && !inCi)(
    "Should sign in, create a key whose secret is shown once, revoke it, chart usage, verify the audit chain and stream a reply - talking to no host but the server",
    async () => {
      if (!haveChromium) throw new Error(`chromium is not installed at ${CHROMIUM}: the console's browser tests cannot run. Install it with: apt-get install -y chromium (.ci/run does this)`);
      const origin = enclave.url.origin;
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
      const page = await context.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      const streamed: string[] = [];
      page.on("request", (request) => void requests.push(request.url()));
      page.on("pageerror", (error) => void problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error" && !/status of 40[134]/.test(message.text())) problems.push(`console: ${message.text()}`);
      });
      page.on("response", (response) => {
        if (response.url().endsWith("/v1/chat/completions")) streamed.push(response.headers()["content-type"] ?? "");
      });

      try {
        // Sign in: a wrong key is refused in plain words, a user key is told it is not enough, the admin key gets in.
        await page.goto(`${origin}/ui`);
        await page.getByLabel("Admin or manager API key").fill("enk_not-a-real-key");
        await page.getByRole("button", { name: "Sign in" }).click();
        await expect(page.getByRole("alert").textContent()).resolves.toContain("did not accept this API key");
        await page.getByLabel("Admin or manager API key").fill(userSecret);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByText("needs an admin or manager key").waitFor();
        await shot(page, "01-sign-in");
        await page.getByLabel("Admin or manager API key").fill(adminSecret);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
        expect(await page.evaluate(() => document.cookie)).toBe("");

        // Overview: the model, its draft, recent traffic and the live chart.
        const models = page.getByRole("table", { name: "Models" });
        await models.getByRole("rowheader", { name: /tiny/ }).waitFor();
        expect(await models.textContent()).toContain("draft");
        await page.locator(".uplot canvas").waitFor();
        expect(await page.getByText("Requests", { exact: true }).locator("..").textContent()).toMatch(/Requests\s*4/);
        // The 404 is the client's error, not the server's.
        expect(await page.getByText("Client errors (4xx)", { exact: true }).locator("..").textContent()).toContain("25.0 %");
        expect(await page.getByText("Server errors (5xx)", { exact: true }).locator("..").textContent()).toContain("0.0 %");
        await shot(page, "02-overview");

        // Keys: create one; its secret is shown once, with a copy button and the warning.
        await page.getByRole("link", { name: "Keys & accounts" }).click();
        await page.getByRole("button", { name: "Create key" }).click();
        const dialog = page.getByRole("dialog", { name: "Create an API key" });
        await dialog.getByLabel("Name").fill("ci-service");
        await dialog.getByLabel("Requests per minute").fill("120");
        await dialog.getByRole("button", { name: "Create key" }).click();
        const secretBox = page.getByLabel("Secret of the new key");
        await secretBox.waitFor();
        const secret = await secretBox.inputValue();
        expect(secret).toStartWith("enk_");
        await expect(page.getByText("you will not see it again").count()).resolves.toBe(1);
        await page.getByRole("button", { name: "Copy", exact: true }).click();
        await page.getByRole("status").filter({ hasText: /Copied|selected/ }).waitFor();
        const keyTable = page.getByRole("table", { name: "API keys" });
        const row = keyTable.getByRole("row").filter({ hasText: "ci-service" });
        expect(await row.textContent()).toContain("120 req/min");
        await shot(page, "03-keys-secret-shown-once");
        const works = await fetch(new URL("/v1/models", origin), { headers: { authorization: `Bearer ${secret}` } });
        expect(works.status).toBe(200);

        // After a reload the key is listed by its prefix, and its secret is nowhere on the page.
        await page.reload();
        await keyTable.getByRole("row").filter({ hasText: "ci-service" }).waitFor();
        expect(await page.content()).not.toContain(secret);
        expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))).not.toContain(secret);
        expect(await row.textContent()).toContain(secret.slice(0, 12));

        // Edit its limits, then revoke it (with a confirmation): it stops working.
        await page.getByRole("button", { name: "Edit limits of ci-service" }).click();
        const edit = page.getByRole("dialog", { name: /Edit key/ });
        await edit.getByLabel("Tokens per minute").fill("5000");
        await edit.getByRole("button", { name: "Save" }).click();
        await row.filter({ hasText: "5,000 tok/min" }).waitFor();
        await page.getByRole("button", { name: "Revoke ci-service" }).click();
        await page.getByRole("button", { name: "Revoke key" }).click();
        await page.getByText("Key “ci-service” revoked").waitFor();
        expect(await keyTable.getByRole("row").filter({ hasText: "ci-service" }).count()).toBe(0);
        const revoked = await fetch(new URL("/v1/models", origin), { headers: { authorization: `Bearer ${secret}` } });
        expect(revoked.status).toBe(401);
        await page.getByLabel("Show revoked keys").check();
        await keyTable.getByRole("row").filter({ hasText: "ci-service" }).filter({ hasText: "revoked" }).waitFor();
        await shot(page, "04-keys-after-revoke");

        // Tablet width: the same page still works (navigation wraps, tables scroll).
        await page.setViewportSize({ width: 820, height: 1180 });
        await shot(page, "05-keys-tablet");
        await page.setViewportSize({ width: 1366, height: 900 });

        // Usage: a chart with data over the date range, a totals table, CSV export.
        await page.getByRole("link", { name: "Usage" }).click();
        await page.locator(".uplot canvas").waitFor();
        const usageTable = page.getByRole("table", { name: "Usage totals" });
        await usageTable.getByRole("rowheader", { name: "tiny" }).waitFor();
        // By model, a row only for models that exist: the 404's is one "other" row, never the name a client made up.
        await usageTable.getByRole("rowheader", { name: /^\(other: unknown/ }).waitFor();
        expect(await usageTable.getByRole("rowheader").allTextContents()).toEqual(["tiny", "(other: unknown, removed or no model)"]);
        expect(await page.content()).not.toContain("no-such-model");
        await page.waitForFunction(() => document.querySelector(".uplot canvas") != null);
        expect(await drawnPixels(page)).toBeGreaterThan(200);
        await page.getByLabel("By", { exact: true }).selectOption("key");
        await usageTable.getByRole("rowheader", { name: "batch-jobs" }).waitFor();
        const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
        const csv = await Bun.file((await download.path())!).text();
        expect(csv.split("\r\n")[0]).toBe("day,key_id,key,requests,errors,prompt_tokens,completion_tokens,cost_USD");
        expect(csv).toContain(",batch-jobs,");
        await shot(page, "06-usage");

        // Request log: metadata of each request, newest first, filterable by client and server errors; no content.
        await page.getByRole("link", { name: "Request log" }).click();
        const log = page.getByRole("table", { name: "Requests" });
        await log.getByRole("row").filter({ hasText: "model_not_found" }).waitFor();
        const logRows = log.locator("tbody tr");
        // Today's three replies, the 404 and the new key's GET /v1/models, then 30 seeded requests over twelve days: one page of 50 holds them all.
        expect(await logRows.count()).toBe(4 + 1 + 30);
        expect(await logRows.first().textContent()).toContain("GET /v1/models");
        const newestReply = logRows.filter({ hasText: "POST /v1/chat/completions" }).filter({ hasText: "200" }).first();
        expect(await newestReply.textContent()).toContain("batch-jobs");
        expect(await newestReply.textContent()).toContain("tiny");
        expect(await newestReply.textContent()).toMatch(/\d ms/);
        await page.getByLabel("Status").selectOption("client_error");
        // The unfiltered rows stay on screen (marked busy) until the filtered page arrives.
        await page.waitForFunction(() => {
          const table = document.querySelector('table[aria-label="Requests"]');
          return table?.getAttribute("aria-busy") === "false" && [...table.querySelectorAll("tbody .state")].every((cell) => Number(cell.textContent) >= 400);
        });
        expect(await log.locator("tbody tr").allTextContents()).toEqual([expect.stringContaining("404"), expect.stringContaining("429")]);
        await page.getByLabel("Status").selectOption("server_error");
        await page.getByText("No requests match these filters.").waitFor();
        await page.getByLabel("Status").selectOption("");
        await log.getByRole("row").filter({ hasText: "model_not_found" }).waitFor();
        expect(await page.content()).not.toContain(CANARY);
        await shot(page, "10-request-log");

        // Audit: the chain's verification first, then the entries of what was just done.
        await page.getByRole("link", { name: "Audit log" }).click();
        await page.getByRole("heading", { name: /Audit chain intact/ }).waitFor();
        const audit = page.getByRole("table", { name: "Audit entries" });
        await audit.getByRole("rowheader", { name: "key.revoke" }).waitFor();
        expect(await audit.textContent()).toContain("key.create");
        await shot(page, "07-audit");

        // Privacy & residency.
        await page.getByRole("link", { name: "Privacy & residency" }).click();
        await page.getByText("Payloads: none.").waitFor();
        await page.getByText("eu-test-1").first().waitFor();
        await page.getByText("Config hash").waitFor();
        await shot(page, "08-privacy-residency");

        // Playground: says nothing is stored, streams the forged model's reply, compares draft on/off.
        await page.getByRole("link", { name: "Playground" }).click();
        await page.getByText("Nothing you type here is stored on the server.").waitFor();
        await page.getByLabel("System prompt").fill("You are terse.");
        await page.getByLabel("Message", { exact: true }).fill("Say something");
        await page.getByRole("button", { name: "Send" }).click();
        const reply = page.locator(".turn-assistant:not([data-streaming]) .turn-text");
        await reply.waitFor();
        expect(await reply.textContent()).toBe(expectedChatReply(forgeOptions, "target", 256));
        // The reply went through the Markdown renderer (its escaping is unit-tested): a paragraph, no markup of its own.
        expect(await reply.evaluate((element) => element.classList.contains("markdown") && element.innerHTML)).toBe(`<p>${expectedChatReply(forgeOptions, "target", 256)}</p>`);
        expect(streamed.length).toBe(1);
        expect(streamed[0]).toStartWith("text/event-stream");
        // Several runs per mode, alternating, with the median and the range shown.
        await page.getByLabel("Comparison runs").fill("3");
        await page.getByRole("button", { name: "Compare draft on / off" }).click();
        await page.getByRole("heading", { name: "Draft model on / off" }).waitFor({ timeout: 30_000 });
        expect(streamed.length).toBe(1 + 6);
        expect(await page.getByTestId("tps-on").textContent()).toMatch(/\d tok\/s/);
        expect(await page.getByTestId("tps-off").textContent()).toMatch(/\d tok\/s/);
        expect(await page.getByTestId("tps-on-spread").textContent()).toMatch(/^median of 3 runs · range [\d.,]+–[\d.,]+ tok\/s$/);
        expect(await page.getByTestId("tps-off-spread").textContent()).toMatch(/^median of 3 runs · range [\d.,]+–[\d.,]+ tok\/s$/);
        expect(await page.getByTestId("compare-verdict").textContent()).toMatch(/median is/);
        await page.getByText("Every run produced the same text.").waitFor();
        await shot(page, "09-playground");

        // Sign out: the key leaves the tab.
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByLabel("Admin or manager API key").waitFor();
        expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

        const foreign = requests.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin);
        expect(foreign).toEqual([]);
        expect(requests.some((url) => url.startsWith(`${origin}/ui/app.js`))).toBe(true);
        expect(problems).toEqual([]);
      } catch (error) {
        await shot(page, "failure").catch(() => {});
        throw error;
      } finally {
        await context.close();
      }
    },
    90_000,
  );

  test.skipIf(!haveChromium && !inCi)(
    "Should follow the browser's dark preference - dark surfaces, light text, charts drawn in the dark palette",
    async () => {
      if (!haveChromium) throw new Error(`chromium is not installed at ${CHROMIUM}: the console's browser tests cannot run. Install it with: apt-get install -y chromium (.ci/run does this)`);
      const origin = enclave.url.origin;
      const luminance = (rgb: string) => {
        const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const colors = (page: Page) =>
        page.evaluate(() => {
          const style = getComputedStyle(document.documentElement);
          const card = document.querySelector(".stat, .card, .table-wrap");
          return { background: style.backgroundColor, text: style.color, card: card == null ? "" : getComputedStyle(card).backgroundColor };
        });
      for (const scheme of ["light", "dark"] as const) {
        const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: scheme });
        const page = await context.newPage();
        try {
          await signIn(page, origin);
          await page.locator(".uplot canvas").waitFor();
          const { background, text, card } = await colors(page);
          if (scheme === "dark") {
            expect(luminance(background)).toBeLessThan(40);
            expect(luminance(card)).toBeLessThan(50);
            expect(luminance(text)).toBeGreaterThan(180);
            expect(await drawnPixels(page)).toBeGreaterThan(0);
            await shot(page, "11-overview-dark");
            await page.getByRole("link", { name: "Request log" }).click();
            await page.getByRole("table", { name: "Requests" }).waitFor();
            await shot(page, "12-request-log-dark");
            await page.getByRole("link", { name: "Playground" }).click();
            await page.getByLabel("Message", { exact: true }).fill("Say something");
            await page.getByRole("button", { name: "Send" }).click();
            await page.locator(".turn-assistant:not([data-streaming]) .turn-text").waitFor();
            await shot(page, "13-playground-dark");
          } else {
            expect(luminance(background)).toBeGreaterThan(230);
            expect(luminance(text)).toBeLessThan(60);
          }
        } catch (error) {
          await shot(page, `failure-${scheme}`).catch(() => {});
          throw error;
        } finally {
          await context.close();
        }
      }
    },
    60_000,
  );
});
