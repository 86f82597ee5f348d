import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const main = join(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "enclave-config-cli-"));

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
