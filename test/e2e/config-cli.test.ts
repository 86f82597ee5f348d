import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presets } from "../../src/forge/forge-options";
import { forgePair } from "../../src/forge/forge-pair";

const main = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "enclave-config-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync(["bun", main, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe("enclave config", () => {
  test("Should list every problem with file, key, expected and got - and exit 1", () => {
    const file = join(dir, "broken.toml");
    writeFileSync(file, `[server]\nport = "eighty"\nhots = "x"\n[logging]\nlevel = "loud"\n`);
    const { code, stderr } = run(["config", "check", "--config", file]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}: server.port: expected a number; got "eighty" (string)`);
    expect(stderr).toContain(`${file}: server.hots: expected one of the known keys`);
    expect(stderr).toContain(`${file}: logging.level: expected one of "trace"`);
  });

  test("Should accept the shipped config", () => {
    const { code, stdout } = run(["config", "check", "--config", join(import.meta.dir, "../../config/enclave.toml")]);
    expect(code).toBe(0);
    expect(stdout).toContain("config ok");
  });

  test("Should print every setting with value, default, description and env var - env overrides applied", () => {
    const { code, stdout } = run(["config", "print", "--json"], { ENCLAVE_SERVER_PORT: "9123" });
    expect(code).toBe(0);
    const port = JSON.parse(stdout).settings.find((row: { key: string }) => row.key === "server.port");
    expect(port).toEqual({ key: "server.port", value: 9123, default: 8080, description: expect.any(String), env: "ENCLAVE_SERVER_PORT" });
  });

  test("Should never print a secret - only whether it is set", () => {
    const secrets = { ENCLAVE_AUTH_PEPPER: "pepper-canary-4471", ENCLAVE_METRICS_TOKEN: "token-canary-9902" };
    const text = run(["config", "print"], secrets).stdout + run(["config", "print", "--json"], secrets).stdout;
    expect(text).not.toContain("canary");
    expect(text).toContain('auth.pepper = "(set)"');
  });
});

describe("enclave config check on the model files", () => {
  const models = join(dir, "models");
  beforeAll(async () => {
    await forgePair(presets.tiny, models);
    await forgePair({ ...presets.tiny, preset: "tiny-wide", vocabSize: 1024 }, models);
  });
  const configWith = (name: string, target: string, draft: string) => {
    const file = join(dir, `${name}.toml`);
    writeFileSync(file, `[storage]\ndata_dir = "${join(dir, `data-${name}`)}"\n[server]\nport = 0\n[[models]]\nid = "tiny"\npath = "${join(models, target)}"\n[models.draft]\npath = "${join(models, draft)}"\n`);
    return file;
  };

  test("Should report each file's architecture, context and vocabulary - and pass a matching pair", () => {
    const { code, stdout } = run(["config", "check", "--config", configWith("pair", "tiny-target.gguf", "tiny-draft.gguf")]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/model tiny: .*tiny-target\.gguf: llama, trained context 512, 512 tokens \(llama vocabulary [0-9a-f]{16}\)/);
    expect(stdout).toContain("vocabulary matches the target's");
    expect(stdout).toContain("config ok");
  });

  test("Should fail a draft of another vocabulary - naming the key, both sizes and hashes, exit 1", () => {
    const file = configWith("mismatch", "tiny-target.gguf", "tiny-wide-draft.gguf");
    const { code, stdout, stderr } = run(["config", "check", "--config", file]);
    expect(code).toBe(1);
    expect(stdout).not.toContain("config ok");
    expect(stderr).toMatch(new RegExp(`${file}: models\\[0\\]\\.draft\\.path: expected a draft with the vocabulary of model 'tiny' \\(512 tokens, hash [0-9a-f]{16}\\); got 1024 tokens`));
    const json = JSON.parse(run(["config", "check", "--config", file, "--json"]).stdout);
    expect(json).toMatchObject({ ok: false, models: [{ id: "tiny", draft: { vocabMatches: false } }], problems: [{ key: "models[0].draft.path" }] });
  });

  test("Should fail a model path that is not a GGUF - with the reason in one line", () => {
    const text = join(dir, "notes.gguf");
    writeFileSync(text, "not a model at all\n");
    const { code, stderr } = run(["config", "check", "--config", configWith("text", "../notes.gguf", "tiny-draft.gguf")]);
    expect(code).toBe(1);
    expect(stderr).toContain("models[0].path: expected a GGUF model file; got not a GGUF file");
    expect(stderr).not.toContain("    at ");
  });

  test("Should refuse to serve a draft of another vocabulary - before it listens or opens the store", () => {
    const file = configWith("serve-mismatch", "tiny-target.gguf", "tiny-wide-draft.gguf");
    const result = Bun.spawnSync(["bun", main, "serve", "--config", file], { cwd: dir, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    const stdout = result.stdout.toString();
    const stderr = result.stderr.toString();
    expect(result.exitCode).toBe(1);
    expect(stderr).toContain("enclave: refusing to start; the model files have 1 problem(s):");
    expect(stderr).toContain("models[0].draft.path: expected a draft with the vocabulary of model 'tiny'");
    expect(stdout).not.toContain("listening");
    expect(stdout).not.toContain("store open");
  }, 30_000);
});
