import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { CreateKeyInput } from "../../src/auth/key-input";
import { residencyCommand } from "../../src/cli/residency-command";
import { loadConfig } from "../../src/config/load";
import { createFakeEngine } from "../../src/inference/fake-engine";
import { servedConfig } from "../../src/serve/served-config";
import { startEnclave } from "../../src/serve/start-enclave";
import { parseInput } from "../../src/validation/parse-input";
import { memoryLogger } from "../support/test-app";

const dir = mkdtempSync(join(tmpdir(), "enclave-residency-agrees-"));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("residency report and GET /admin/residency", () => {
  test("Should show the same models and config hash - the CLI describes the config as serve runs it, demo pair included", async () => {
    const file = join(dir, "enclave.toml");
    writeFileSync(file, `[server]\nhost = "127.0.0.1"\nport = 0\nshutdown_grace_seconds = 1\n[storage]\ndata_dir = "data"\n[residency]\nregion = "eu-1"\n`);

    const printed: string[] = [];
    const log = spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    let code: number;
    try {
      code = await residencyCommand(["report", "--config", file]);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const cli = JSON.parse(printed.join("\n"));

    const config = servedConfig(loadConfig({ path: file, env: {} }).config);
    const enclave = await startEnclave({ config, logger: memoryLogger("warn").logger, createEngine: async () => createFakeEngine({ models: [{ id: "demo" }] }) });
    try {
      const actor = cliActor("test");
      const account = await enclave.services.accounts.ensureDefault(actor);
      const { secret } = await enclave.services.keys.create(actor, parseInput(CreateKeyInput, { name: "auditor", role: "admin", account_id: account.id }));
      const response = await fetch(new URL("/admin/residency", enclave.url), { headers: { authorization: `Bearer ${secret}` } });
      expect(response.status).toBe(200);
      const served = await response.json();

      expect(cli.paths.models).toEqual([{ id: "demo", path: join(dir, "data", "models", "demo-target.gguf"), draft: join(dir, "data", "models", "demo-draft.gguf") }]);
      expect(served.paths).toEqual(cli.paths);
      expect(served.backends).toEqual(cli.backends);
      expect(served.config_hash).toBe(cli.config_hash);
    } finally {
      await enclave.stop();
    }
  });
});
