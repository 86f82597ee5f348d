import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliActor } from "../../src/accounts/actor";
import { composeServices } from "../../src/compose/compose-services";
import { loadConfig } from "../../src/config/load";
import { openStore } from "../../src/db/client";
import { memoryLogger } from "../support/test-app";
import { sqliteConfiguredStore } from "../../src/store/open-configured-store";

const SERVE = join(import.meta.dir, "../support/serve-reloadable.ts");

function configText(dataDir: string, limits: string, port = 0, extraModel = false): string {
  return [
    "[server]",
    `host = "127.0.0.1"`,
    `port = ${port}`,
    "[storage]",
    `data_dir = ${JSON.stringify(dataDir)}`,
    "[auth]",
    `pepper = "reload-test-pepper"`,
    "[limits]",
    limits,
    "[[models]]",
    `id = "fake"`,
    `path = "/models/fake.gguf"`,
    ...(extraModel ? ["[[models]]", `id = "extra"`, `path = "/models/extra.gguf"`] : []),
    "",
  ].join("\n");
}

/** Reads the child's stdout as lines, so a test can wait for one. */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  void (async () => {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        for (const waiter of waiters.splice(0)) if (waiter.match(line)) waiter.resolve(line);
        else waiters.push(waiter);
      }
    }
  })();
  const next = (match: (line: string) => boolean, after = 0): Promise<string> => {
    const seen = lines.slice(after).find(match);
    if (seen != null) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { lines, next };
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, Bun.sleep(ms).then(() => Promise.reject(new Error(`timed out waiting for ${what}`)))]);

describe("SIGHUP", () => {
  test("Should apply a changed limit while a stream in flight completes - and keep serving on an invalid reload", async () => {
    const dir = mkdtempSync(join(tmpdir(), "enclave-reload-"));
    const dataDir = join(dir, "data");
    const file = join(dir, "enclave.toml");
    writeFileSync(file, configText(dataDir, "rpm = 0"));
    const child = Bun.spawn(["bun", SERVE, file], { stdout: "pipe", stderr: "inherit" });
    const out = lineReader(child.stdout);
    try {
      const url = await within(out.next((line) => line.startsWith("http")), 20_000, "the server's URL");
      const { config } = loadConfig({ path: file, env: {} });
      const store = openStore(dataDir);
      const { keys, accounts } = composeServices({ config, store: sqliteConfiguredStore(store), logger: memoryLogger().logger });
      const cli = cliActor("test");
      const { secret } = await keys.create(cli, { name: "reload", role: "admin", account_id: (await accounts.ensureDefault(cli)).id });
      store[Symbol.dispose]();
      const complete = (body: Record<string, unknown>) =>
        fetch(new URL("/v1/completions", url), {
          method: "POST",
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "fake", prompt: "count 1 2 3", ...body }),
        });

      const stream = await complete({ stream: true, max_tokens: 40 });
      expect(stream.status).toBe(200);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = (await reader.read()).value ?? "";

      // One request a minute from now on, a second model, and a port change that needs a restart.
      const beforeReload = out.lines.length;
      writeFileSync(file, configText(dataDir, "rpm = 1", 1, true));
      child.kill("SIGHUP");
      const reloaded = await within(out.next((line) => line.includes('"config reloaded"'), beforeReload), 5_000, "the reload log line");
      expect(JSON.parse(reloaded).models).toEqual(["fake", "extra"]);
      const warning = await within(out.next((line) => line.includes("need a restart"), beforeReload), 5_000, "the restart warning");
      expect(JSON.parse(warning)).toMatchObject({ level: "warn", settings: ["server.port"] });

      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
      expect(text).toContain('"finish_reason":"length"');
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
      const tokens = [...text.matchAll(/"text":" (\d+)"/g)].map((match) => Number(match[1]));
      expect(tokens).toEqual(Array.from({ length: 40 }, (_, index) => 4 + index));

      // The stream counted as this minute's request: the next is over the reloaded limit.
      const limited = await complete({ max_tokens: 2 });
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as any).error.code).toBe("rate_limit_requests");

      const beforeInvalid = out.lines.length;
      writeFileSync(file, configText(dataDir, `rpm = "many"`));
      child.kill("SIGHUP");
      const refused = JSON.parse(await within(out.next((line) => line.includes("config reload refused"), beforeInvalid), 5_000, "the refusal"));
      expect(refused.level).toBe("error");
      expect(refused.msg).toContain(`${file}: limits.rpm`);
      expect(refused.problems).toEqual([expect.objectContaining({ key: "limits.rpm" })]);
      expect(JSON.stringify(refused)).not.toContain("many");
      expect((await fetch(new URL("/health", url))).status).toBe(200);
      const listed = (await (await fetch(new URL("/admin/models", url), { headers: { authorization: `Bearer ${secret}` } })).json()) as any;
      expect(listed.data.map((model: any) => model.id)).toEqual(["fake", "extra"]);
      // The running config stays: still one request a minute.
      expect((await complete({ max_tokens: 2 })).status).toBe(429);
    } finally {
      child.kill("SIGTERM");
      await within(child.exited, 10_000, "the server to exit");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
