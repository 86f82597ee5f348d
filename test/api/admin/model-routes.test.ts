import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { cliActor } from "../../../src/accounts/actor";
import { createLiveConfig } from "../../../src/config/live-config";
import { loadConfig } from "../../../src/config/load";
import { openStore } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { auditLog } from "../../../src/db/schema";
import { forgePair, resolveForgeOptions } from "../../../src/forge";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { createModelPool } from "../../../src/inference/model-pool";
import { createModelAdmin } from "../../../src/models/model-admin";
import { guardedRoutes } from "../../support/guarded-routes";
import { createTestApp, memoryLogger } from "../../support/test-app";
import { api } from "../auth/harness";
import { createSqliteAuditRepository } from "../../../src/store/sqlite-audit-repository";

const root = mkdtempSync(join(tmpdir(), "enclave-models-"));
let target: string;
let draft: string;

beforeAll(async () => {
  const manifest = await forgePair(resolveForgeOptions("tiny"), join(root, "models"));
  target = join(root, "models", manifest.target.file);
  draft = join(root, "models", manifest.draft.file);
  writeFileSync(join(root, "models", "notes.gguf"), "not a model");
  mkdirSync(join(root, "elsewhere"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The guarded API over a model pool of fake engines, a store and a config file of its own. */
async function modelsApp(toml = "", tokenDelayMs = 0) {
  const dir = mkdtempSync(join(root, "case-"));
  const file = join(dir, "enclave.toml");
  // model_paths names the forged pair's directory, relative to the config file as the default "models" is.
  writeFileSync(file, `[engine]\nmodel_paths = ["../models"]\n\n[limits]\nrpm = 50\n\n[[models]]\nid = "fake"\npath = ${JSON.stringify(target)}\n${toml}`);
  const { config } = loadConfig({ path: file, env: {} });
  const { logger, lines } = memoryLogger();
  const pool = createModelPool({ models: config.models, logger, createEngine: (model) => createFakeEngine({ models: [{ id: model.id }], tokenDelayMs, naturalLength: 1000 }) });
  await pool.start();
  const live = createLiveConfig(config);
  const store = openStore(join(dir, "data"));
  migrate(store);
  const models = createModelAdmin({ pool, live, configFile: file, audit: createSqliteAuditRepository(store.db), logger });
  const guarded = guardedRoutes({ config: live.view, engine: pool, store, logger, models });
  const { app } = createTestApp({ engine: pool, routes: guarded.routes, logger });
  const cli = cliActor("test");
  const account = await guarded.accounts.ensureDefault(cli);
  const admin = (await guarded.keys.create(cli, { name: "admin", role: "admin", account_id: account.id })).secret;
  const manager = (await guarded.keys.create(cli, { name: "mgr", role: "manager", account_id: account.id })).secret;
  const user = (await guarded.keys.create(cli, { name: "user", account_id: account.id })).secret;
  const call = async (method: string, path: string, json?: unknown, secret = admin) => {
    const response = await app.handle(api(path, secret, { method, ...(json !== undefined && { json }) }));
    return { status: response.status, body: (await response.json()) as any };
  };
  const audit = () => store.db.select().from(auditLog).all().filter((row) => row.action.startsWith("model."));
  return { app, call, file, pool, live, lines, audit, manager, user, [Symbol.asyncDispose]: async () => {
    await pool[Symbol.asyncDispose]();
    store[Symbol.dispose]();
  } };
}

describe("/admin/models", () => {
  test("Should list the configured models with their state - the default loaded", async () => {
    await using h = await modelsApp();
    const { status, body } = await h.call("GET", "/admin/models");
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: "list", data: [{ object: "model", id: "fake", path: target, default: true, state: "ready", parallel: 2 }] });
  });

  test("Should add a forged GGUF pair inside model_paths - served, audited, the config file untouched without persist", async () => {
    await using h = await modelsApp();
    const before = readFileSync(h.file, "utf8");
    const added = await h.call("POST", "/admin/models", { id: "tiny", path: "../models/" + target.split("/").at(-1), draft: { path: draft }, parallel: 3 });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: "tiny", path: target, draft_path: draft, default: false, state: "unloaded", parallel: 3 });
    expect((await h.call("GET", "/admin/models")).body.data.map((model: any) => model.id)).toEqual(["fake", "tiny"]);
    expect(h.live.current().models.map((model) => model.id)).toEqual(["fake", "tiny"]);
    expect(readFileSync(h.file, "utf8")).toBe(before);
    expect(h.audit().map(({ actor, action, target: id, details }) => ({ actor: actor.startsWith("key:"), action, id, details: JSON.parse(details) }))).toEqual([
      { actor: true, action: "model.add", id: "tiny", details: { path: target, draft_path: draft, persist: false } },
    ]);
  });

  test("Should write an added and a removed model into the config file with persist - and keep every other setting", async () => {
    await using h = await modelsApp();
    expect((await h.call("POST", "/admin/models", { id: "tiny", path: target, context_size: 128, persist: true })).status).toBe(201);
    let written = parse(readFileSync(h.file, "utf8")) as any;
    expect(written.limits).toEqual({ rpm: 50 });
    expect(written.engine).toEqual({ model_paths: ["../models"] });
    expect(written.models).toEqual([
      { id: "fake", path: target },
      { id: "tiny", path: target, context_size: 128 },
    ]);
    expect(loadConfig({ path: h.file, env: {} }).config.models.map((model) => model.id)).toEqual(["fake", "tiny"]);

    const removed = await h.call("DELETE", "/admin/models/tiny?persist=true");
    expect(removed.status).toBe(200);
    written = parse(readFileSync(h.file, "utf8")) as any;
    expect(written.models).toEqual([{ id: "fake", path: target }]);
    expect(written.limits).toEqual({ rpm: 50 });
  });

  // Bodies are built when the test runs: the forged files exist only then.
  const refused: [string, () => Record<string, unknown>, number, string | null][] = [
    ["a path outside model_paths", () => ({ id: "x", path: join(root, "elsewhere") }), 400, "path"],
    ["a file that is not a GGUF", () => ({ id: "x", path: join(root, "models", "notes.gguf") }), 400, "path"],
    ["a file that does not exist", () => ({ id: "x", path: join(root, "models", "missing.gguf") }), 400, "path"],
    ["a draft outside model_paths", () => ({ id: "x", path: target, draft: { path: "/etc/hostname" } }), 400, "draft.path"],
    ["a value the config schema refuses", () => ({ id: "x", path: target, parallel: 0 }), 400, "parallel"],
    ["an unknown field", () => ({ id: "x", path: target, bogus: 1 }), 400, "bogus"],
    ["a draft whose min_tokens exceeds max_tokens", () => ({ id: "x", path: target, draft: { path: draft, min_tokens: 9, max_tokens: 4 } }), 400, "draft.min_tokens"],
    ["an id already served", () => ({ id: "fake", path: target }), 409, "id"],
    ["a second default", () => ({ id: "x", path: target, default: true }), 409, "default"],
  ];
  for (const [what, body, status, param] of refused)
    test(`Should refuse ${what} - ${status} naming '${param}', nothing added`, async () => {
      await using h = await modelsApp();
      const sent = body();
      const response = await h.call("POST", "/admin/models", sent);
      expect(response.status).toBe(status);
      expect(response.body.error.param).toBe(param);
      // The path sent is never repeated back.
      if (typeof sent.path === "string" && sent.path !== target) expect(JSON.stringify(response.body)).not.toContain(sent.path);
      expect(h.pool.configs().map((model) => model.id)).toEqual(["fake"]);
      expect(h.audit()).toEqual([]);
    });

  test("Should load, unload and remove a model - the removed one answers 404 on /v1 at once", async () => {
    await using h = await modelsApp(`\n[[models]]\nid = "second"\npath = ${JSON.stringify(target)}\n`);
    expect((await h.call("POST", "/admin/models/second/load")).body).toMatchObject({ id: "second", state: "ready" });
    expect((await h.call("POST", "/admin/models/second/unload")).body).toMatchObject({ id: "second", state: "unloaded" });
    expect((await h.call("DELETE", "/admin/models/second")).body).toMatchObject({ id: "second" });
    const chat = await h.app.handle(api("/v1/chat/completions", h.user, { method: "POST", json: { model: "second", messages: [{ role: "user", content: "1 2" }] } }));
    expect(chat.status).toBe(404);
    expect(h.audit().map((row) => row.action)).toEqual(["model.load", "model.unload", "model.remove"]);
    expect((await h.call("POST", "/admin/models/second/load")).status).toBe(404);
  });

  test("Should let a stream in flight finish when its model is unloaded and removed - every token, then done", async () => {
    await using h = await modelsApp(`\n[[models]]\nid = "second"\npath = ${JSON.stringify(target)}\n`, 10);
    const stream = await h.app.handle(api("/v1/completions", h.user, { method: "POST", json: { model: "second", prompt: "count 1 2", max_tokens: 20, stream: true } }));
    expect(stream.status).toBe(200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    expect((await h.call("POST", "/admin/models/second/unload")).status).toBe(200);
    expect((await h.call("DELETE", "/admin/models/second")).status).toBe(200);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    expect([...text.matchAll(/"text":" (\d+)"/g)].map((match) => Number(match[1]))).toEqual(Array.from({ length: 20 }, (_, index) => 3 + index));
    expect(text).toContain('"finish_reason":"length"');
    await h.pool.drained();
  });

  test("Should refuse to unload or remove the default model - 409, it stays loaded", async () => {
    await using h = await modelsApp();
    for (const [method, path] of [["POST", "/admin/models/fake/unload"], ["DELETE", "/admin/models/fake"]] as const) {
      const response = await h.call(method, path);
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe("conflict");
    }
    expect(h.pool.models()[0]).toMatchObject({ id: "fake", state: "ready" });
  });

  test("Should refuse persist without a config file - 409 before anything changes", async () => {
    await using h = await modelsApp();
    const admin = createModelAdmin({ pool: h.pool, live: h.live, configFile: null, audit: createSqliteAuditRepository(openStore(mkdtempSync(join(root, "nofile-"))).db), logger: memoryLogger().logger });
    await expect(admin.add(cliActor("test"), { id: "tiny", path: target, persist: true })).rejects.toMatchObject({ status: 409, param: "persist" });
    expect(h.pool.configs().map((model) => model.id)).toEqual(["fake"]);
  });

  test("Should answer 403 to manager and user keys and 401 without a key - the pool untouched", async () => {
    await using h = await modelsApp();
    for (const [secret, status] of [[h.manager, 403], [h.user, 403], [null, 401]] as const) {
      expect((await h.call("GET", "/admin/models", undefined, secret as string)).status).toBe(status);
      expect((await h.call("POST", "/admin/models", { id: "tiny", path: target }, secret as string)).status).toBe(status);
    }
    expect(h.pool.configs().map((model) => model.id)).toEqual(["fake"]);
  });
});
