/**
 * The OpenAPI document at /docs/openapi.json: every route the app serves is in it, every /v1 and
 * /admin operation has its request and answer schemas, and one real request per operation
 * round-trips: the request fits the document's request schema, the app accepts it, and the answer
 * fits the document's answer schema (checked against the published JSON Schema, not the zod source).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../../src/accounts/actor";
import { apiOperations } from "../../../src/api/openapi/api-operations";
import { createLiveConfig } from "../../../src/config/live-config";
import { configSchema } from "../../../src/config/schema";
import { openStore } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { createFakeEngine } from "../../../src/inference/fake-engine";
import { createModelPool } from "../../../src/inference/model-pool";
import { createModelAdmin } from "../../../src/models/model-admin";
import { residencyReport } from "../../../src/residency/residency-report";
import { guardedRoutes } from "../../support/guarded-routes";
import { checkJsonSchema } from "../../support/json-schema-check";
import { createTestApp, memoryLogger, request } from "../../support/test-app";
import { createSqliteAuditRepository } from "../../../src/store/sqlite-audit-repository";

const dataDir = mkdtempSync(join(tmpdir(), "enclave-openapi-"));
const store = openStore(dataDir);
migrate(store);
// The smallest GGUF (a header, no tensors) is all adding a model checks; the fake engines never read it.
const modelsDir = join(dataDir, "models");
mkdirSync(modelsDir);
const gguf = (name: string) => {
  const header = new Uint8Array(24);
  header.set(new TextEncoder().encode("GGUF"));
  new DataView(header.buffer).setUint32(4, 3, true);
  writeFileSync(join(modelsDir, name), header);
  return join(modelsDir, name);
};
// Full retention, so stored responses, consents and overrides all have something to answer.
const config = configSchema.parse({
  retention: { payloads: "full", payload_key: "ab".repeat(32) },
  storage: { data_dir: dataDir },
  engine: { model_paths: [modelsDir] },
  models: [{ id: "fake", path: gguf("fake.gguf") }],
});
const { logger } = memoryLogger("silent");
// Served as `enclave serve` serves: a model pool, so the /admin/models routes are there to document.
const engine = createModelPool({ models: config.models, logger, createEngine: (model) => createFakeEngine({ models: [{ id: model.id }] }) });
const live = createLiveConfig(config);
const models = createModelAdmin({ pool: engine, live, configFile: null, audit: createSqliteAuditRepository(store.db), logger });
const guarded = guardedRoutes({ config: live.view, engine, store, logger, models, residency: () => residencyReport(live.current()) });
const { app } = createTestApp({ engine, routes: guarded.routes, logger });
const cli = cliActor("test");
const root = await guarded.accounts.ensureDefault(cli);
const admin = (await guarded.keys.create(cli, { name: "root-admin", role: "admin", account_id: root.id })).secret;
afterAll(async () => {
  await engine[Symbol.asyncDispose]();
  store[Symbol.dispose]();
  rmSync(dataDir, { recursive: true, force: true });
});
await engine.start();

const document = (await (await app.handle(request("/docs/openapi.json"))).json()) as any;
const operationsIn = (doc: any) => Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
const toElysiaPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");
const served = app.routes.filter((route) => !(route.hooks as any)?.detail?.hide);

describe("GET /docs/openapi.json", () => {
  test("Should be an OpenAPI 3.1 document listing every route the app serves - and no route it does not", () => {
    expect(document.openapi).toStartWith("3.1");
    expect(document.info).toMatchObject({ title: "Enclave", version: "test" });
    const listed = operationsIn(document).map(({ path, method }) => `${method.toUpperCase()} ${toElysiaPath(path)}`);
    expect(listed.sort()).toEqual(served.map((route) => `${route.method} ${route.path}`).sort());
    expect(new Set(operationsIn(document).map(({ op }) => op.operationId)).size).toBe(listed.length);
  });

  test("Should document every /v1 and /admin route with its schemas - and document no route that is not served", () => {
    const guardedRoutes = served.filter((route) => route.path.startsWith("/v1") || route.path.startsWith("/admin")).map((route) => `${route.method} ${route.path}`);
    expect(guardedRoutes.length).toBeGreaterThan(35);
    expect(guardedRoutes.filter((key) => apiOperations[key] == null)).toEqual([]);
    expect(Object.keys(apiOperations).filter((key) => !guardedRoutes.includes(key))).toEqual([]);

    for (const { path, method, op } of operationsIn(document).filter(({ path }) => path.startsWith("/v1") || path.startsWith("/admin"))) {
      const where = `${method} ${path}`;
      const documented = apiOperations[`${method.toUpperCase()} ${toElysiaPath(path)}`]!;
      expect({ where, tags: op.tags, security: op.security.length > 0 }).toEqual({ where, tags: [documented.tag], security: true });
      const success = op.responses[String(documented.status ?? 200)];
      expect({ where, schema: typeof success?.content?.["application/json"]?.schema }).toEqual({ where, schema: "object" });
      expect({ where, error: op.responses.default?.content?.["application/json"]?.schema != null }).toEqual({ where, error: true });
      expect({ where, body: op.requestBody?.content?.["application/json"]?.schema != null }).toEqual({ where, body: documented.body != null });
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect({ where, params: op.parameters.filter((p: any) => p.in === "path").map((p: any) => p.name) }).toEqual({ where, params: pathParams });
    }
  });

  test("Should resolve every $ref in the document - a generator would fail on a dangling one", () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(0);
    const dangling = refs.filter((ref) => ref.replace(/^#\//, "").split("/").reduce((node: any, key) => node?.[key], document) == null);
    expect(dangling).toEqual([]);
  });
});

interface Context {
  responseId: string;
  accountId: string;
  keyId: string;
  consentId: string;
  doomedAccountId: string;
  erasedAccountId: string;
}
interface Sample {
  path?: (ctx: Context) => string;
  query?: Record<string, string>;
  body?: unknown;
  keep?: (answer: any, ctx: Context) => void;
}

const chat = { model: "fake", messages: [{ role: "user", content: "count 1 2 3" }], max_tokens: 3 };
/** One request per operation, in an order where each finds what earlier ones made. */
const samples: [string, Sample][] = [
  ["GET /v1/models", {}],
  ["GET /v1/models/:id", { path: () => "/v1/models/fake" }],
  ["POST /v1/chat/completions", { body: chat }],
  ["POST /v1/completions", { body: { model: "fake", prompt: "1 2", max_tokens: 3 } }],
  ["POST /v1/embeddings", { body: { model: "fake", input: ["one", "two"] } }],
  ["POST /v1/responses", { body: { model: "fake", input: "count", max_output_tokens: 3, store: true }, keep: (answer, ctx) => (ctx.responseId = answer.id) }],
  ["GET /v1/responses/:id", { path: (ctx) => `/v1/responses/${ctx.responseId}` }],
  ["GET /v1/responses/:id/input_items", { path: (ctx) => `/v1/responses/${ctx.responseId}/input_items`, query: { order: "asc" } }],
  ["DELETE /v1/responses/:id", { path: (ctx) => `/v1/responses/${ctx.responseId}` }],
  ["POST /v1/messages", { body: { model: "fake", max_tokens: 3, messages: [{ role: "user", content: "count" }] } }],
  ["POST /v1/messages/count_tokens", { body: { model: "fake", messages: [{ role: "user", content: "count" }] } }],
  ["POST /admin/accounts", { body: { name: "team", concurrency: 4 }, keep: (answer, ctx) => (ctx.accountId = answer.id) }],
  ["GET /admin/accounts", {}],
  ["GET /admin/accounts/:id", { path: (ctx) => `/admin/accounts/${ctx.accountId}` }],
  ["PATCH /admin/accounts/:id", { path: (ctx) => `/admin/accounts/${ctx.accountId}`, body: { budget_period: "month", budget_tokens: 1000 } }],
  ["POST /admin/accounts/:id/credits", { path: (ctx) => `/admin/accounts/${ctx.accountId}/credits`, body: { amount: 5 } }],
  ["POST /admin/keys", { body: { name: "team key", account_id: "$account", rpm: 60 }, keep: (answer, ctx) => (ctx.keyId = answer.id) }],
  ["GET /admin/keys", { query: { include_revoked: "true" } }],
  ["GET /admin/keys/:id", { path: (ctx) => `/admin/keys/${ctx.keyId}` }],
  ["PATCH /admin/keys/:id", { path: (ctx) => `/admin/keys/${ctx.keyId}`, body: { models: ["fake"] } }],
  ["GET /admin/usage", { query: { group_by: "model,day" } }],
  ["GET /admin/audit", { query: { limit: "5", order: "asc" } }],
  ["GET /admin/audit/verify", {}],
  ["GET /admin/retention", {}],
  ["POST /admin/retention/purge", { query: { dry_run: "true" } }],
  ["PUT /admin/accounts/:id/retention", { path: (ctx) => `/admin/accounts/${ctx.accountId}/retention`, body: { payloads: "anonymized" } }],
  ["DELETE /admin/accounts/:id/retention", { path: (ctx) => `/admin/accounts/${ctx.accountId}/retention` }],
  ["PUT /admin/keys/:id/retention", { path: (ctx) => `/admin/keys/${ctx.keyId}/retention`, body: { payloads: "none" } }],
  ["DELETE /admin/keys/:id/retention", { path: (ctx) => `/admin/keys/${ctx.keyId}/retention` }],
  [
    "POST /admin/accounts/:id/consents",
    {
      path: (ctx) => `/admin/accounts/${ctx.accountId}/consents`,
      body: { granted_by: "A. Person", statement: "debugging only", mode: "anonymized", purposes: ["debugging"], retention_days: 7 },
      keep: (answer, ctx) => (ctx.consentId = answer.id),
    },
  ],
  ["GET /admin/accounts/:id/consents", { path: (ctx) => `/admin/accounts/${ctx.accountId}/consents` }],
  ["DELETE /admin/consents/:id", { path: (ctx) => `/admin/consents/${ctx.consentId}` }],
  ["GET /admin/accounts/:id/export", { path: (ctx) => `/admin/accounts/${ctx.accountId}/export` }],
  ["GET /admin/requests", { query: { limit: "5", status: "success" } }],
  ["GET /admin/status", {}],
  ["GET /admin/residency", {}],
  ["GET /admin/models", {}],
  ["POST /admin/models", { body: { id: "spare", path: "$spare", parallel: 1, keep_alive_seconds: 0 } }],
  ["POST /admin/models/:id/load", { path: () => "/admin/models/spare/load" }],
  ["POST /admin/models/:id/unload", { path: () => "/admin/models/spare/unload" }],
  ["DELETE /admin/models/:id", { path: () => "/admin/models/spare", query: { persist: "false" } }],
  ["POST /admin/accounts/:id/erase", { path: (ctx) => `/admin/accounts/${ctx.erasedAccountId}/erase` }],
  ["DELETE /admin/keys/:id", { path: (ctx) => `/admin/keys/${ctx.keyId}` }],
  ["DELETE /admin/accounts/:id", { path: (ctx) => `/admin/accounts/${ctx.doomedAccountId}` }],
];

const operationOf = (key: string) => {
  const [method, path] = key.split(" ") as [string, string];
  return document.paths[path.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
};
const spare = gguf("spare.gguf");
const withAccount = (body: unknown, ctx: Context) => JSON.parse(JSON.stringify(body).replaceAll('"$account"', JSON.stringify(ctx.accountId)).replaceAll('"$spare"', JSON.stringify(spare)));

const ctx = {
  doomedAccountId: (await guarded.accounts.create(cli, { name: "doomed" })).id,
  erasedAccountId: (await guarded.accounts.create(cli, { name: "erased" })).id,
} as Context;

describe("one request per operation", () => {
  test("Should have a sample for every documented operation - so none goes unchecked", () => {
    expect(samples.map(([key]) => key).sort()).toEqual(Object.keys(apiOperations).sort());
  });

  test.each(samples)("Should round-trip %s through its documented schemas", async (key, sample) => {
    const op = operationOf(key);
    expect(op).toBeDefined();
    const [method, pattern] = key.split(" ") as [string, string];
    const body = sample.body !== undefined ? withAccount(sample.body, ctx) : undefined;
    if (body !== undefined) expect(checkJsonSchema(body, op.requestBody.content["application/json"].schema, document)).toEqual([]);
    for (const [name, value] of Object.entries(sample.query ?? {})) {
      const parameter = op.parameters.find((p: any) => p.in === "query" && p.name === name);
      expect({ name, documented: parameter != null }).toEqual({ name, documented: true });
      expect(checkJsonSchema(value, parameter.schema, document)).toEqual([]);
    }

    const query = sample.query ? `?${new URLSearchParams(sample.query)}` : "";
    const response = await app.handle(request(`${sample.path?.(ctx) ?? pattern}${query}`, { method, headers: { authorization: `Bearer ${admin}` }, json: body }));
    const text = await response.text();
    const status = Object.keys(op.responses).find((code) => code.startsWith("2"))!;
    expect({ key, status: String(response.status), text: response.status === Number(status) ? "" : text }).toEqual({ key, status, text: "" });
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const answer = JSON.parse(text);
    expect(checkJsonSchema(answer, op.responses[status].content["application/json"].schema, document)).toEqual([]);
    sample.keep?.(answer, ctx);
  });

  test("Should reject, by the documented schemas, what the API rejects - so the round trips cannot pass vacuously", async () => {
    const op = operationOf("POST /v1/chat/completions");
    const bad = { model: "fake", messages: "not a list", temperature: 9 };
    expect(checkJsonSchema(bad, op.requestBody.content["application/json"].schema, document).length).toBeGreaterThan(0);
    expect((await app.handle(request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${admin}` }, json: bad }))).status).toBe(400);

    const account = operationOf("GET /admin/accounts/:id").responses["200"].content["application/json"].schema;
    expect(checkJsonSchema({ object: "account", name: 3 }, account, document)).toEqual(expect.arrayContaining([expect.stringContaining("missing required 'id'"), expect.stringContaining("$.name: expected string")]));
  });

  test("Should document the streamed answer too - chat completions with stream: true is an event stream", async () => {
    expect(Object.keys(operationOf("POST /v1/chat/completions").responses["200"].content)).toEqual(["application/json", "text/event-stream"]);
    const response = await app.handle(request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${admin}` }, json: { ...chat, stream: true } }));
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    await response.text();
  });
});
