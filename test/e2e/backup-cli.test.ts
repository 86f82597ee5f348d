/**
 * `enclave backup` beside a running server and `enclave restore` once it is stopped: plain lines,
 * exit codes, no stack trace. Runs src/main.ts with bun; a `sleep` child stands in for the server
 * that holds the data dir.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCK_FILE_NAME } from "../../src/db/data-dir-lock";

const main = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "enclave-backup-cli-"));
const dataDir = join(work, "data");
const config = join(work, "enclave.toml");
writeFileSync(config, `[storage]\ndata_dir = ${JSON.stringify(dataDir)}\n[auth]\npepper = "backup-pepper"\n`);

async function run(args: string[]) {
  const child = Bun.spawn([process.execPath, main, ...args, "--config", config], { cwd: work, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  expect(`${stdout}${stderr}`).not.toMatch(/\n\s+at |^\s*\d+ \| /m);
  return { stdout, stderr, exitCode };
}

describe("enclave backup and restore", () => {
  test("Should back up while a server holds the data dir, refuse to restore until it stops, then restore the backed-up keys", async () => {
    expect((await run(["keys", "create", "--name", "kept", "--init"])).exitCode).toBe(0);
    const server = Bun.spawn(["sleep", "60"]);
    const backup = join(work, "enclave-backup.sqlite");
    try {
      writeFileSync(join(dataDir, LOCK_FILE_NAME), `${server.pid}\n`);
      const made = await run(["backup", "--out", backup]);
      expect({ exitCode: made.exitCode, stderr: made.stderr }).toEqual({ exitCode: 0, stderr: "" });
      expect(made.stdout).toContain(`wrote ${backup}`);

      expect((await run(["keys", "create", "--name", "after-backup"])).exitCode).toBe(0);
      const refused = await run(["restore", "--from", backup]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(`in use by another enclave serve (pid ${server.pid})`)]);
    } finally {
      server.kill();
      await server.exited;
    }

    const restored = await run(["restore", "--from", backup]);
    expect({ exitCode: restored.exitCode, stderr: restored.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(restored.stdout).toContain("audit entr");
    const keys = (await run(["keys", "list"])).stdout;
    expect(keys).toContain("kept");
    expect(keys).not.toContain("after-backup");
    const log = (await run(["audit", "list", "--json"])).stdout;
    expect(JSON.parse(log).data.map((row: { action: string }) => row.action)).toContain("store.restore");
    expect((await run(["audit", "verify"])).exitCode).toBe(0);
  }, 60_000);

  test.each([
    [["backup"], 2, "--out FILE is required"],
    [["restore", "--from", join(work, "missing.sqlite")], 1, "does not exist; the store was not changed"],
  ])("Should answer %p with one plain line - exit %p", async (args, exitCode, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr).toContain(message);
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  }, 30_000);
});
