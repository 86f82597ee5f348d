import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { cliActor } from "../../../src/accounts/actor";
import { guardedRoutes } from "../../support/guarded-routes";
import { configSchema } from "../../../src/config/schema";
import { openStore, STORE_FILE_NAME } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { verifyAudit } from "../../../src/audit/verify-audit";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { createTestApp, memoryLogger } from "../../support/test-app";
import type { StoreWriterJob, StoreWriterReport } from "../../support/store-writer.worker";
import { api } from "../auth/harness";

const root = join(import.meta.dir, "../../..");
const PEPPER = "concurrent-writers-pepper";
const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((dispose) => dispose()));

/** The guarded app over a store in a fresh data dir, a TOML config for the CLI on the same dir, and an admin key. */
async function setup(busyTimeoutMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), "enclave-writers-"));
  const dataDir = join(dir, "data");
  const store = openStore(dataDir, { busyTimeoutMs });
  migrate(store);
  const config = configSchema.parse({ auth: { pepper: PEPPER } });
  const { logger } = memoryLogger();
  const engine = createFakeEngine();
  const guarded = guardedRoutes({ config, engine, store, logger });
  const { app } = createTestApp({ engine, routes: guarded.routes, logger });
  const cli = cliActor("test");
  const account = await guarded.accounts.ensureDefault(cli);
  const admin = await guarded.keys.create(cli, { name: "root-admin", role: "admin", account_id: account.id });
  const configPath = join(dir, "enclave.toml");
  writeFileSync(configPath, `[storage]\ndata_dir = ${JSON.stringify(dataDir)}\n[auth]\npepper = ${JSON.stringify(PEPPER)}\n`);
  cleanup.push(() => {
    store[Symbol.dispose]();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, store, dataDir, configPath, guarded, cli, account, adminSecret: admin.secret };
}

function runWorker(job: StoreWriterJob): Promise<StoreWriterReport> {
  const worker = new Worker(new URL("../../support/store-writer.worker.ts", import.meta.url).href);
  return new Promise<StoreWriterReport>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<StoreWriterReport>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`store writer failed: ${event.message}`));
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}

async function cli(args: string[]) {
  const child = Bun.spawn([process.execPath, "src/main.ts", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, exitCode };
}

describe("the store under concurrent writers", () => {
  test("Should answer every admin API write and lose none - while a second connection and CLI processes write the same store", async () => {
    const { app, store, dataDir, configPath, guarded, cli: actor, account, adminSecret } = await setup();
    const other = await guarded.accounts.create(actor, { name: "worker-account" });
    const writer = runWorker({ dataDir, pepper: PEPPER, accountId: other.id, prefix: "worker", durationMs: 2500 });
    const cliRuns = Promise.all(Array.from({ length: 3 }, (_, index) => cli(["keys", "create", "--name", `cli-${index}`, "--config", configPath])));

    const statuses = new Map<number, number>();
    let apiKeys = 0;
    let lastBudget = 0;
    const until = Date.now() + 2500;
    for (let round = 1; Date.now() < until; round++) {
      const created = await app.handle(api("/admin/keys", adminSecret, { method: "POST", json: { name: `api-${round}`, account_id: account.id } }));
      statuses.set(created.status, (statuses.get(created.status) ?? 0) + 1);
      if (created.status === 201) apiKeys++;
      const updated = await app.handle(
        api(`/admin/accounts/${account.id}`, adminSecret, { method: "PATCH", json: { budget_period: "month", budget_tokens: round } }),
      );
      statuses.set(updated.status, (statuses.get(updated.status) ?? 0) + 1);
      if (updated.status === 200) lastBudget = round;
      await Bun.sleep(0);
    }
    const [report, runs] = await Promise.all([writer, cliRuns]);

    expect([...statuses.keys()]).toEqual([201, 200]);
    expect(report.errors).toEqual([]);
    for (const run of runs) expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: "" });
    // Both sides wrote (how much depends on the machine's load; the point is no 5xx and no lost write).
    expect(apiKeys).toBeGreaterThan(0);
    expect(report.keysCreated).toBeGreaterThan(0);
    const count = (prefix: string) => (store.sqlite.query("select count(*) as n from api_keys where name like ?").get(`${prefix}-%`) as { n: number }).n;
    expect({ api: count("api"), worker: count("worker"), cli: count("cli") }).toEqual({ api: apiKeys, worker: report.keysCreated, cli: 3 });
    expect((await guarded.accounts.get(actor, account.id)).budgetTokens).toBe(lastBudget);
    expect((await guarded.accounts.get(actor, other.id)).budgetTokens).toBe(report.lastBudget);
    expect(verifyAudit(store.db).ok).toBe(true);
  }, 30_000);

  test("Should answer 503 store_busy with Retry-After - when another writer holds the lock past the deadline", async () => {
    const { app, store, account, adminSecret } = await setup(200);
    const holder = new Database(join(store.path, "..", STORE_FILE_NAME));
    holder.exec("BEGIN IMMEDIATE");
    try {
      const response = await app.handle(api("/admin/keys", adminSecret, { method: "POST", json: { name: "blocked", account_id: account.id } }));
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect((await response.json()).error).toMatchObject({ code: "store_busy", type: "overloaded" });
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const retried = await app.handle(api("/admin/keys", adminSecret, { method: "POST", json: { name: "blocked", account_id: account.id } }));
    expect(retried.status).toBe(201);
  });

  test("Should wait its turn, then print one line and exit 1 - when a CLI write cannot get the lock within its deadline", async () => {
    const { store, configPath } = await setup();
    const holder = new Database(store.path);
    holder.exec("BEGIN IMMEDIATE");
    const released = Bun.sleep(1000).then(() => holder.exec("COMMIT"));
    const waited = await cli(["keys", "create", "--name", "waited", "--config", configPath]);
    await released;
    expect({ exitCode: waited.exitCode, stderr: waited.stderr }).toEqual({ exitCode: 0, stderr: "" });

    holder.exec("BEGIN IMMEDIATE");
    try {
      const blocked = await cli(["keys", "create", "--name", "blocked", "--config", configPath]);
      expect(blocked.exitCode).toBe(1);
      expect(blocked.stderr.trim().split("\n")).toEqual([expect.stringContaining("store is busy")]);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  }, 20_000);
});
