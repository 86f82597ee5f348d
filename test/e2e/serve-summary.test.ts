import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presets } from "../../src/forge/forge-options";
import { forgePair } from "../../src/forge/forge-pair";
import { ENCLAVE_VERSION } from "../../src/version";

const main = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "enclave-serve-summary-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reads the server's JSON lines until one matches `until` (or the deadline), then stops it. */
async function serveUntil(config: string, until: (record: Record<string, unknown>) => boolean) {
  const child = Bun.spawn(["bun", main, "serve", "--config", config], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const records: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const deadline = setTimeout(() => child.kill("SIGTERM"), 30_000);
  let buffered = "";
  try {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        raw.push(line);
        records.push(JSON.parse(line));
      }
      if (records.some(until)) break;
    }
  } finally {
    clearTimeout(deadline);
    child.kill("SIGTERM");
    await child.exited;
  }
  return { records, raw };
}

describe("enclave serve start-up summary", () => {
  test("Should tell the admin what they got in JSON lines off a terminal - version, config, data dir, URLs, model, no-keys hint", async () => {
    const models = join(dir, "models");
    await forgePair(presets.tiny, models);
    const dataDir = join(dir, "data");
    const config = join(dir, "enclave.toml");
    writeFileSync(
      config,
      `[server]\nport = 0\n[storage]\ndata_dir = "${dataDir}"\n[engine]\ngpu = "cpu"\n[[models]]\nid = "tiny"\npath = "${join(models, "tiny-target.gguf")}"\ncontext_size = 256\nparallel = 2\n[models.draft]\npath = "${join(models, "tiny-draft.gguf")}"\n`,
    );
    const { records, raw } = await serveUntil(config, (record) => record.model === "tiny" && typeof record.backend === "string");
    expect(raw.every((line) => line.startsWith("{"))).toBe(true);
    expect(records[0]).toMatchObject({ level: "info", version: ENCLAVE_VERSION, config, dataDir, msg: `enclave ${ENCLAVE_VERSION} starting; config ${config}; data dir ${dataDir}` });
    expect(records.find((record) => String(record.msg).startsWith("listening on"))).toMatchObject({ api: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/) });
    expect(records.find((record) => record.model === "tiny" && record.default === true)).toMatchObject({ contextSize: 256, sequences: 2, speculative: "draft" });
    expect(records.find((record) => record.msg === "no keys yet: run `enclave keys create --role admin`")).toMatchObject({ level: "warn" });
    expect(records.find((record) => typeof record.backend === "string")).toMatchObject({ backend: "CPU", gpuLayers: 0, contextSize: 256, sequences: 2, draft: join(models, "tiny-draft.gguf") });
    // A server start that loads a model: seconds on a shared machine.
  }, 40_000);
});
