import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../../../src/config/schema";
import { residencyViolations } from "../../../src/residency/residency-violations";

const root = mkdtempSync(join(tmpdir(), "enclave-residency-"));
const allowed = join(root, "allowed");
const outside = join(root, "outside");
mkdirSync(allowed);
mkdirSync(outside);
symlinkSync(outside, join(allowed, "escape"));

function violationsOf(input: Record<string, unknown>, written: { key: string; path: string }[] = []) {
  return residencyViolations(configSchema.parse(input), { written });
}

const upstream = (region: string) => ({ id: "u1", url: "https://vllm.example.internal/v1", region, models: ["m"] });

describe("residencyViolations", () => {
  test.each([
    ["data_dir outside allowed paths", { storage: { data_dir: outside }, residency: { allowed_paths: [allowed] } }, [], "storage.data_dir"],
    ["data_dir reaching outside through a symlink", { storage: { data_dir: join(allowed, "escape", "data") }, residency: { allowed_paths: [allowed] } }, [], "storage.data_dir"],
    ["a model file outside allowed paths", { storage: { data_dir: allowed }, residency: { allowed_paths: [allowed] }, models: [{ id: "m", path: join(outside, "m.gguf") }] }, [], "models[0].path"],
    ["a draft file outside allowed paths", { storage: { data_dir: allowed }, residency: { allowed_paths: [allowed] }, models: [{ id: "m", path: join(allowed, "m.gguf"), draft: { path: join(outside, "d.gguf") } }] }, [], "models[0].draft.path"],
    ["a remote model under egress deny", { models: [{ id: "m", path: "hf:org/model" }] }, [], "models[0].path"],
    ["a URL model under egress deny", { models: [{ id: "m", path: "https://models.example/m.gguf" }] }, [], "models[0].path"],
    ["an upstream while egress is deny", { residency: { region: "eu", allowed_regions: ["eu"] }, upstreams: [upstream("eu")] }, [], "upstreams[0]"],
    ["an upstream in a region that is not allowed", { residency: { region: "eu", egress: "allow-listed" }, upstreams: [upstream("us")] }, [], "upstreams[0].region"],
    ["this installation's own region not allowed", { residency: { region: "us", allowed_regions: ["eu"] } }, [], "residency.region"],
    ["a remote store while egress is deny", { storage: { database_url: "postgres://u:pw@db.example.internal/enclave" } }, [], "storage.database_url"],
    ["a remote store with no declared region when regions are named", { residency: { region: "eu", egress: "allow-listed" }, storage: { database_url: "postgres://db.example.internal/enclave" } }, [], "storage.database_region"],
    ["a remote store in a region that is not allowed", { residency: { region: "eu", egress: "allow-listed" }, storage: { database_url: "postgres://db.example.internal/enclave", database_region: "us" } }, [], "storage.database_region"],
    ["the runtime cache outside allowed paths", { storage: { data_dir: allowed }, residency: { allowed_paths: [allowed] } }, [{ key: "runtime cache", path: outside }], "runtime cache"],
  ] as const)("Should refuse %s", (_name, input, written, key) => {
    const violations = violationsOf(input as Record<string, unknown>, [...written]);
    expect(violations.map((violation) => violation.key)).toContain(key);
  });

  test.each([
    ["the defaults (no residency configured)", {}],
    ["everything inside allowed paths", { storage: { data_dir: join(allowed, "data") }, residency: { allowed_paths: [allowed] }, models: [{ id: "m", path: join(allowed, "m.gguf") }] }],
    ["a store on loopback while egress is deny", { residency: { region: "eu" }, storage: { database_url: "postgres://enclave@127.0.0.1:5432/enclave" } }],
    ["a store behind a unix socket while egress is deny", { residency: { region: "eu" }, storage: { database_url: "postgres://enclave@/enclave?host=/run/postgresql" } }],
    ["an allow-listed remote store in an allowed region", { residency: { region: "eu", egress: "allow-listed" }, storage: { database_url: "postgres://db.example.internal/enclave", database_region: "eu" } }],
    ["an allow-listed upstream in an allowed region", { residency: { region: "eu-1", allowed_regions: ["eu-1", "eu-2"], egress: "allow-listed" }, upstreams: [upstream("eu-2")] }],
  ] as const)("Should accept %s", (_name, input) => {
    expect(violationsOf(input as Record<string, unknown>)).toEqual([]);
  });

  test("Should name the store's host but never its password", () => {
    const [violation] = violationsOf({ storage: { database_url: "postgres://u:hunter2@db.example.internal/enclave" } });
    expect(violation?.message).toContain("db.example.internal");
    expect(violation?.message).not.toContain("hunter2");
  });

  test("Should list every violation at once - an admin fixes them in one pass", () => {
    const violations = violationsOf({
      storage: { data_dir: outside },
      residency: { region: "eu", allowed_paths: [allowed] },
      models: [{ id: "m", path: "hf:org/model" }],
      upstreams: [upstream("us")],
    });
    expect(violations.map((violation) => violation.key).sort()).toEqual(["models[0].path", "storage.data_dir", "upstreams[0]", "upstreams[0].region"]);
  });
});
