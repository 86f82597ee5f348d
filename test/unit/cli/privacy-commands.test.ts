import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { draftDataCommand } from "../../../src/cli/draft-data-command";
import { eraseCommand } from "../../../src/cli/erase-command";
import { exportCommand } from "../../../src/cli/export-command";
import { purgeCommand } from "../../../src/cli/purge-command";
import { openStore } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { accounts, apiKeys, usageEvents } from "../../../src/db/schema";

const DAY = 86_400_000;
let dir: string;
let configPath: string;
let out: string[];
let spies: { mockRestore(): void }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "enclave-cli-privacy-"));
  configPath = join(dir, "enclave.toml");
  writeFileSync(configPath, `[storage]\ndata_dir = ${JSON.stringify(join(dir, "data"))}\n[auth]\npepper = "cli-test-pepper"\n`);
  using store = openStore(join(dir, "data"));
  migrate(store);
  const at = new Date(Date.now() - 100 * DAY);
  store.db.insert(accounts).values({ id: "acct_x", name: "x-co", createdAt: at, updatedAt: at }).run();
  store.db.insert(apiKeys).values({ id: "key_x", accountId: "acct_x", name: "app", role: "user", lookup: "l", keyHash: "h", createdAt: at, updatedAt: at }).run();
  store.db
    .insert(usageEvents)
    .values({
      id: "req_old", keyId: "key_x", accountId: "acct_x", endpoint: "POST /v1/chat/completions", model: "tiny", startedAt: at, queueMs: 0, ttftMs: 1, durationMs: 2,
      promptTokens: 3, cachedTokens: 0, completionTokens: 4, draftTokensAccepted: 2, costMicros: 0, status: 200, errorCode: null, clientIp: "203.0.113.9",
    })
    .run();
  out = [];
  spies = [spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" "))), spyOn(console, "error").mockImplementation(() => {})];
});
afterEach(() => {
  spies.forEach((spy) => spy.mockRestore());
  rmSync(dir, { recursive: true, force: true });
});

describe("enclave purge / export / erase / draft-data", () => {
  test("Should print what a purge counted, then did, then that nothing was left to delete", async () => {
    expect(await purgeCommand(["--dry-run", "--config", configPath])).toBe(0);
    expect(out.join("\n")).toMatch(/purge \(dry run\)[\s\S]*metering rows rolled up: +1\n[\s\S]*client IPs cleared: +1/);
    out.length = 0;
    expect(await purgeCommand(["--config", configPath])).toBe(0);
    expect(out.join("\n")).toMatch(/purge \(done\)[\s\S]*metering rows rolled up: +1[\s\S]*space: full vacuum, WAL truncated/);
    out.length = 0;
    expect(await purgeCommand(["--config", configPath])).toBe(0);
    expect(out.join("\n")).toMatch(/metering rows rolled up: +0[\s\S]*nothing deleted; no space to reclaim/);
  });

  test("Should export an account to a private file, report draft acceptance, then erase it", async () => {
    const file = join(dir, "export.json");
    expect(await exportCommand(["--account", "x-co", "--out", file, "--config", configPath])).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ object: "account_export", account: { id: "acct_x" }, usage: { requests: [{ id: "req_old" }] } });
    expect(await draftDataCommand(["report", "--json", "--config", configPath])).toBe(0);
    expect(JSON.parse(out.join("\n"))).toEqual({ data: [{ model: "tiny", requests: 1, completion_tokens: 4, draft_tokens_accepted: 2, acceptance: 0.5 }] });
    out.length = 0;
    expect(await eraseCommand(["--account", "acct_x", "--config", configPath])).toBe(0);
    expect(out.join("\n")).toBe("erased account acct_x: 1 key(s) revoked, 0 payload(s) deleted, 1 metering row(s) folded into daily aggregates, 0 consent(s) revoked");
  });
});
