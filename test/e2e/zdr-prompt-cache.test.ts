import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presets } from "../../src/forge/forge-options";
import { forgePair } from "../../src/forge/forge-pair";

const main = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "enclave-zdr-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every regular file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The files a process holds open that were deleted from disk: a temp file unlinked after opening still reaches the disk. */
function deletedOpenFiles(pid: number): string[] {
  const fds = `/proc/${pid}/fd`;
  return readdirSync(fds)
    .map((fd) => join(fds, fd))
    .filter((fd) => {
      try {
        return readlinkSync(fd).endsWith(" (deleted)") && statSync(fd).isFile();
      } catch {
        return false;
      }
    });
}

describe("zero data retention with the prompt cache on, real model", () => {
  test("Should keep a cached prompt off disk - data dir, WAL, temp dir and deleted-but-open files hold no byte of it after a hit restored from RAM", async () => {
    const models = join(dir, "models");
    await forgePair(presets.tiny, models);
    const dataDir = join(dir, "data");
    const temp = join(dir, "tmp");
    mkdirSync(temp);
    const config = join(dir, "enclave.toml");
    writeFileSync(
      config,
      `[server]\nport = 0\n[storage]\ndata_dir = "${dataDir}"\n[engine]\ngpu = "cpu"\n[[models]]\nid = "tiny"\npath = "${join(models, "tiny-target.gguf")}"\ncontext_size = 512\nparallel = 1\nprompt_cache = "account"\nprompt_cache_mb = 64\n[models.draft]\npath = "${join(models, "tiny-draft.gguf")}"\n`,
    );
    const env = { ...process.env, TMPDIR: temp, ENCLAVE_CONFIG: config };
    const created = Bun.spawnSync(["bun", main, "keys", "create", "--role", "admin", "--name", "zdr", "--init"], { env, cwd: dir });
    const secret = /enk_[A-Za-z0-9]+/.exec(created.stdout.toString())?.[0];
    expect(secret).toBeDefined();

    const child = Bun.spawn(["bun", main, "serve"], { env, cwd: dir, stdout: "pipe", stderr: "pipe" });
    const logs: string[] = [];
    try {
      let url: string | undefined;
      let buffered = "";
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      while (url == null) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`serve exited: ${logs.join("\n")}`);
        buffered += value;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          logs.push(line);
          const record = JSON.parse(line) as { msg?: string; api?: string };
          if (record.msg === "default model ready") url = logs.map((each) => JSON.parse(each).api).find((api) => typeof api === "string");
        }
      }
      void (async () => {
        for (let next = await reader.read(); !next.done; next = await reader.read()) logs.push(next.value);
      })();

      const canary = `zdr canary ${crypto.randomUUID().replaceAll("-", "")} the quick brown fox jumps over the lazy dog`;
      const ask = (content: string) =>
        fetch(`${url}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "tiny", max_tokens: 8, messages: [{ role: "system", content }, { role: "user", content }] }),
        }).then((response) => response.json() as Promise<{ usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } }>);
      await ask(canary);
      // Another conversation on the only sequence pushes the canary's KV state out to RAM.
      await ask("a different conversation about ships sailing over a silver sea at night under a full moon");
      const again = await ask(canary);
      // The scan below is of a prompt the cache really holds, and held in RAM between the two asks.
      expect(again.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(again.usage.prompt_tokens / 2);
      const metrics = await fetch(`${url.replace(/\/v1$/, "")}/metrics`, { headers: { authorization: `Bearer ${secret}` } }).then((response) => response.text());
      expect(metrics).toMatch(/enclave_prompt_cache_ram_bytes\{model="tiny"\} [1-9]/);
      // No state file beside the store: the saved KV state lives in memory only.
      expect(filesUnder(dataDir).map((file) => file.slice(dataDir.length + 1)).sort()).toEqual(["enclave.lock", "enclave.sqlite", "enclave.sqlite-shm", "enclave.sqlite-wal"]);

      const needle = Buffer.from(canary.split(" ")[2]!);
      const holding = [...filesUnder(dataDir), ...filesUnder(temp), ...deletedOpenFiles(child.pid)].filter((file) => readFileSync(file).includes(needle));
      expect(holding).toEqual([]);
      expect(filesUnder(temp)).toEqual([]);
      expect(logs.join("\n")).not.toContain(canary.split(" ")[2]!);
    } finally {
      child.kill("SIGTERM");
      await child.exited;
    }
    // After a clean stop too: the WAL checkpointed into the store holds no prompt either.
    const needle = Buffer.from("zdr canary");
    expect(filesUnder(dataDir).filter((file) => readFileSync(file).includes(needle))).toEqual([]);
  }, 60_000);
});
