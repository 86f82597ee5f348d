/**
 * `enclave serve` and the admin commands on a data dir they cannot use: one line on stderr naming
 * the directory (or the pid that holds it), exit 1, no stack trace. Runs src/main.ts with bun.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCK_FILE_NAME, lockDataDir } from "../../src/db/data-dir-lock";

const main = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "enclave-data-dir-cli-"));

function configWith(name: string, dataDir: string): string {
  const path = join(work, `${name}.toml`);
  writeFileSync(path, `[server]\nhost = "127.0.0.1"\nport = 0\n[storage]\ndata_dir = ${JSON.stringify(dataDir)}\n[auth]\npepper = "data-dir-pepper"\n`);
  return path;
}

async function run(args: string[]) {
  const child = Bun.spawn([process.execPath, main, ...args], { cwd: work, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, exitCode, lines: stderr.trimEnd().split("\n") };
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |^\s*\d+ \| /m);

describe("enclave serve on a data dir in use", () => {
  test("Should refuse to start with one line naming the running server's pid - and leave its lock alone", async () => {
    const dataDir = join(work, "in-use");
    const config = configWith("in-use", dataDir);
    // This test process stands in for the first server: it holds the lock with its own, running pid.
    using _first = lockDataDir(dataDir);
    const second = await run(["serve", "--config", config]);
    expect(second.exitCode).toBe(1);
    expect(second.lines).toEqual([expect.stringContaining(`in use by another enclave serve (pid ${process.pid})`)]);
    noStack(second.stderr);
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(true);

    // The admin commands do not take the serve lock: they work beside a running server.
    const created = await run(["keys", "create", "--name", "beside", "--init", "--config", config]);
    expect({ exitCode: created.exitCode, stderr: created.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect((await run(["usage", "--config", config])).exitCode).toBe(0);
  }, 30_000);
});

describe("a data dir that cannot be created or written", () => {
  const parentFile = join(work, "a-file");
  writeFileSync(parentFile, "not a directory");
  // Tests run as root, where mode 0555 does not stop a write: these paths fail for root too.
  test.each([
    ["under a regular file", join(parentFile, "data"), "a part of its path is a file"],
    ["under /proc, which allows no new directory", "/proc/enclave-data", "enclave needs write and execute permission on /proc"],
    ["an existing directory that takes no file (/sys)", "/sys", "is not writable"],
  ])("Should print one line naming the directory and exit 1 - %s", async (_, dataDir, reason) => {
    const config = configWith(dataDir.replaceAll("/", "_"), dataDir);
    for (const args of [["serve"], ["keys", "list", "--init"]]) {
      const result = await run([...args, "--config", config]);
      expect(result.exitCode).toBe(1);
      expect(result.lines).toEqual([expect.stringContaining(`data dir ${dataDir} `)]);
      expect(result.stderr).toContain(reason);
      expect(result.stderr).toContain("permission");
      noStack(result.stderr);
    }
  }, 30_000);
});
