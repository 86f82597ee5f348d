import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const main = join(import.meta.dir, "../../src/main.ts");

function run(args: string[], cwd: string) {
  const result = Bun.spawnSync(["bun", main, ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, ENCLAVE_LOGGING_LEVEL: "error" } });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe("residency from the command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "enclave-residency-cli-"));
  const allowed = join(dir, "allowed");
  mkdirSync(allowed);

  test("Should refuse to start with a violating config - listing every violation, writing nothing", () => {
    const config = join(dir, "violating.toml");
    const dataDir = join(dir, "elsewhere");
    writeFileSync(
      config,
      `[storage]\ndata_dir = "${dataDir}"\n[residency]\nregion = "eu-1"\nallowed_paths = ["${allowed}"]\n[[upstreams]]\nid = "u"\nurl = "https://u.example/v1"\nregion = "us-1"\nmodels = ["m"]\n`,
    );
    const { code, stderr } = run(["serve", "--config", config], dir);
    expect(code).toBe(1);
    expect(stderr).toContain("refusing to start");
    expect(stderr).toContain("storage.data_dir");
    expect(stderr).toContain("upstreams[0].region");
    expect(stderr).toContain('egress is "deny"');
    expect(existsSync(dataDir)).toBe(false);
  });

  test("Should print a residency report with region, paths, egress, backends and a config hash", () => {
    const config = join(dir, "ok.toml");
    writeFileSync(config, `[storage]\ndata_dir = "${join(allowed, "data")}"\n[residency]\nregion = "eu-1"\nallowed_paths = ["${allowed}"]\n`);
    const { code, stdout } = run(["residency", "report", "--config", config], dir);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ region: "eu-1", allowed_regions: ["eu-1"], egress: "deny", violations: [] });
    expect(report.paths.data_dir).toBe(join(allowed, "data"));
    expect(report.config_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run(["residency", "report", "--config", config], dir).stdout).toContain(report.config_hash);
  });

  test("Should list the shared store in the report - its host without the password, and refuse one outside the allowed regions", () => {
    const config = join(dir, "store.toml");
    writeFileSync(config, `[storage]\ndata_dir = "${join(allowed, "data")}"\ndatabase_region = "us-1"\n[residency]\nregion = "eu-1"\negress = "allow-listed"\n`);
    const env = { ENCLAVE_STORAGE_DATABASE_URL: "postgres://enclave:hunter2@db.example.internal:5432/enclave" };
    const result = Bun.spawnSync(["bun", main, "residency", "report", "--config", config], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env, ENCLAVE_LOGGING_LEVEL: "error" } });
    const stdout = result.stdout.toString();
    expect(result.exitCode).toBe(1);
    expect(stdout).not.toContain("hunter2");
    const report = JSON.parse(stdout);
    expect(report.paths.store).toContain("db.example.internal:5432/enclave");
    expect(report.store).toEqual({ kind: "postgres", region: "us-1", on_this_machine: false });
    expect(report.violations.map((violation: { key: string }) => violation.key)).toEqual(["storage.database_region"]);
  });
});
