import { describe, expect, test } from "bun:test";
import { api, guardedApp } from "../auth/harness";

describe("what an admin request may store is bounded", () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ["a key's models list", "/admin/keys", { name: "k", models: Array.from({ length: 101 }, (_, i) => `m${i}`) }, "models"],
    ["a model id in a key's list", "/admin/keys", { name: "k", models: ["m".repeat(201)] }, "models[0]"],
    ["a key's allowed_ips list", "/admin/keys", { name: "k", allowed_ips: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) }, "allowed_ips"],
    ["a key's allowed_regions list", "/admin/keys", { name: "k", allowed_regions: Array.from({ length: 101 }, (_, i) => `r${i}`) }, "allowed_regions"],
    ["a key's account_id", "/admin/keys", { name: "k", account_id: "a".repeat(10_000) }, "account_id"],
    ["an account's parent_id", "/admin/accounts", { name: "a", parent_id: "p".repeat(10_000) }, "parent_id"],
  ];
  for (const [what, path, json, param] of cases)
    test(`Should refuse ${what} over its bound with 400 naming it - and store nothing`, async () => {
      using h = await guardedApp();
      const auditBefore = (h.store.sqlite.query("select count(*) as n from audit_log").get() as { n: number }).n;
      const response = await h.app.handle(api(path, h.adminSecret, { method: "POST", json }));
      expect(response.status).toBe(400);
      const body = (await response.json()) as any;
      expect(body.error).toMatchObject({ type: "invalid_request_error", param });
      expect((h.store.sqlite.query("select count(*) as n from audit_log").get() as { n: number }).n).toBe(auditBefore);
    });
});
