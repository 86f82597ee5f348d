import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { forgePair, resolveForgeOptions } from "../../src/forge";
import { freePort } from "../support/free-port";

const main = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "enclave-models-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync(["bun", main, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** Polls `probe` while the server runs; a server that exits or never answers fails the test with its own stderr. */
async function waitFor<T>(server: Subprocess<"ignore", "ignore", "pipe">, what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until && server.exitCode === null) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    await Bun.sleep(100);
  }
  if (server.exitCode === null) server.kill("SIGKILL");
  throw new Error(`gave up waiting for ${what} (server exit ${await server.exited}): ${await new Response(server.stderr).text()}`);
}

describe("enclave models", () => {
  test("Should inspect a forged GGUF header - architecture, context length, vocabulary and its hash", async () => {
    const manifest = await forgePair(resolveForgeOptions("tiny"), join(dir, "inspect"));
    const target = run(["models", "inspect", join(dir, "inspect", manifest.target.file), "--json"]);
    const draft = run(["models", "inspect", join(dir, "inspect", manifest.draft.file), "--json"]);
    expect(target.code).toBe(0);
    const header = JSON.parse(target.stdout);
    const hash: string = header.vocab_sha256;
    expect(header).toMatchObject({ architecture: "llama", context_length: 512, vocab_size: 512 });
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(draft.stdout).vocab_sha256).toBe(hash);
    const notGguf = run(["models", "inspect", join(dir, "inspect", "tiny.manifest.json")]);
    expect(notGguf.code).toBe(1);
    expect(notGguf.stderr.trim().split("\n")).toHaveLength(1);
    expect(notGguf.stderr).toContain("is not a readable GGUF file");
  });

  test("Should list, add, load, unload and remove models on a running server - and pick up a model from a SIGHUP reload", async () => {
    const manifest = await forgePair(resolveForgeOptions("tiny"), join(dir, "models"));
    const target = join(dir, "models", manifest.target.file);
    const draft = join(dir, "models", manifest.draft.file);
    const file = join(dir, "enclave.toml");
    const port = freePort();
    const base = [
      "[server]", `port = ${port}`, "[storage]", `data_dir = ${JSON.stringify(join(dir, "data"))}`, "[engine]", `gpu = "cpu"`, "max_threads = 2",
      "[[models]]", `id = "tiny"`, `path = ${JSON.stringify(target)}`, "context_size = 256", "",
    ].join("\n");
    writeFileSync(file, base);
    const created = run(["keys", "create", "--role", "admin", "--name", "cli", "--config", file, "--json", "--init"]);
    expect(created.code).toBe(0);
    const env = { ENCLAVE_KEY: JSON.parse(created.stdout).secret as string };
    const server = Bun.spawn(["bun", main, "serve", "--config", file], { cwd: dir, stdout: "ignore", stderr: "pipe", env: { ...process.env, ENCLAVE_LOGGING_LEVEL: "warn" } });
    try {
      await waitFor(server, "the server to be ready", async () => ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200 ? true : undefined));
      const listed = run(["models", "list", "--config", file, "--json"], env);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: "tiny", state: "ready", default: true })]);

      const added = run(["models", "add", "--id", "tiny-draft", "--path", draft, "--context-size", "128", "--config", file, "--json"], env);
      expect(added.code).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({ id: "tiny-draft", state: "unloaded", context_size: 128 });
      expect(run(["models", "load", "tiny-draft", "--config", file], env).stdout).toContain("model 'tiny-draft' is ready");
      expect(run(["models", "unload", "tiny-draft", "--config", file], env).code).toBe(0);
      expect(JSON.parse(run(["models", "list", "--config", file, "--json"], env).stdout).map((model: any) => model.state)).toEqual(["ready", "unloaded"]);
      expect(run(["models", "remove", "tiny-draft", "--config", file], env).code).toBe(0);

      const refused = run(["models", "remove", "tiny", "--config", file], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("is the default model");
      expect(refused.stderr).not.toContain("    at ");
      const noKey = run(["models", "list", "--config", file]);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain("ENCLAVE_KEY");

      writeFileSync(file, `${base}\n[[models]]\nid = "reloaded"\npath = ${JSON.stringify(draft)}\ncontext_size = 128\n`);
      server.kill("SIGHUP");
      const ids = await waitFor(server, "the reloaded model", async () => {
        const now = JSON.parse(run(["models", "list", "--config", file, "--json"], env).stdout).map((model: any) => model.id);
        return now.length === 2 ? now : undefined;
      });
      expect(ids).toEqual(["tiny", "reloaded"]);
      expect(server.exitCode).toBeNull();
      expect(readFileSync(file, "utf8")).toContain('id = "reloaded"');
    } finally {
      server.kill("SIGTERM");
      await server.exited;
    }
  }, 90_000);
});
