/**
 * Every command of dist/enclave with --help and with a bad flag: help on stdout and exit 0; one
 * line naming the problem and exit 2; never a stack trace or a source excerpt. Builds the binary
 * when missing or older than the sources, as binary.test.ts does.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { COMMAND_NAMES } from "../../src/cli/run-cli";

const root = path.resolve(import.meta.dir, "..", "..");
const binary = path.join(root, "dist", "enclave");
const skip = process.env.ENCLAVE_SKIP_BINARY_TEST === "1";
const work = mkdtempSync(path.join(os.tmpdir(), "enclave-cli-help-"));
const env = { HOME: work, XDG_CACHE_HOME: path.join(work, ".cache"), PATH: "/usr/bin:/bin" };

/** Subcommands, so each action's own help is driven too. */
const actions: Record<string, string[]> = {
  keys: ["create", "list", "get", "update", "revoke"],
  accounts: ["create", "list", "update", "delete", "credits"],
  audit: ["list", "verify"],
  config: ["check", "print"],
  residency: ["report"],
  "draft-data": ["export", "report"],
  models: ["list", "add", "load", "unload", "remove", "inspect"],
};

/** Bun's uncaught-error output: `at fn (file:line)` frames or a `12 | source` excerpt. */
const stackTrace = /\n\s+at \S|^\s*\d+ \| |error: .*\n.*\^|node_modules|src\/\S+\.ts/m;

function run(args: string[], cwd = work) {
  const result = Bun.spawnSync([binary, ...args], { cwd, env, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

beforeAll(() => {
  if (skip) return;
  const sources = ["package.json", "bun.lock", "scripts/build.ts", ...new Bun.Glob("{src,patches}/**/*").scanSync({ cwd: root })];
  const newest = Math.max(...sources.map((file) => statSync(path.join(root, file)).mtimeMs));
  if (!(Bun.file(binary).size > 0) || statSync(binary).mtimeMs < newest) {
    const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: root, stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error(`bun scripts/build.ts exited with ${build.exitCode}`);
  }
}, 180_000);

const lines = [...COMMAND_NAMES.map((name) => [name]), ...Object.entries(actions).flatMap(([name, list]) => list.map((action) => [name, action]))];

describe.skipIf(skip)("dist/enclave on the command line", () => {
  test("Should cover every command - the list comes from the CLI's own table", () => {
    expect(COMMAND_NAMES).toEqual(expect.arrayContaining(["serve", "keys", "config", "residency", "version"]));
    for (const name of Object.keys(actions)) expect(COMMAND_NAMES).toContain(name);
  });

  test.each(lines)("Should print usage and exit 0 - %s --help", (...command) => {
    for (const flag of ["--help", "-h"]) {
      const { exitCode, stdout, stderr } = run([...command, flag]);
      expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
      expect(stdout).toStartWith(`usage: enclave ${command.join(" ")}`);
      expect(stdout).toContain("-h, --help");
    }
  }, 30_000);

  test.each(lines)("Should name a bad flag in one line and exit 2 - %s --no-such-flag", (...command) => {
    const { exitCode, stdout, stderr } = run([...command, "--no-such-flag"]);
    expect(exitCode).toBe(2);
    expect(stderr.trimEnd().split("\n")).toEqual([`enclave ${command[0]}: unknown option '--no-such-flag'; see 'enclave ${command[0]} --help'`]);
    expect(stdout + stderr).not.toMatch(stackTrace);
  }, 30_000);

  test.each([
    ["a flag without its value", ["keys", "list", "--config"], 2, /^enclave keys: --config needs a value \(--config PATH\)/],
    ["an unknown command", ["frobnicate"], 2, /^enclave: unknown command 'frobnicate'; see 'enclave --help'\n$/],
    ["no command", [], 2, /^usage: enclave <command>/],
    ["a config file that does not exist", ["keys", "list", "--config", "/nonexistent/enclave.toml"], 1, /--config: \(file\): expected a readable TOML file; got no such file: \/nonexistent\/enclave\.toml/],
    ["an admin command where no store exists", ["keys", "list"], 1, /^enclave: no store at .*enclave\.sqlite .*--init/],
  ] as const)("Should answer %s plainly - no stack trace", (_, args, code, message) => {
    const { exitCode, stdout, stderr } = run([...args]);
    expect(exitCode).toBe(code);
    expect(stderr).toMatch(message);
    expect(stdout + stderr).not.toMatch(stackTrace);
  }, 30_000);

  test.each([
    ["a model file that does not exist", `[[models]]\nid = "m"\npath = "missing.gguf"\n`, /models\[0\]\.path: expected a GGUF model file; got no such file/],
    ["a model file that is not a GGUF", `[[models]]\nid = "m"\npath = "fake.gguf"\n`, /models\[0\]\.path: expected a GGUF model file; got not a GGUF file/],
  ])("Should refuse to serve %s - one line naming the setting, exit 1", (name, models, message) => {
    const dir = mkdtempSync(path.join(work, "serve-"));
    writeFileSync(path.join(dir, "fake.gguf"), "PK\u0003\u0004 not a model");
    const config = path.join(dir, "enclave.toml");
    writeFileSync(config, `[server]\nport = 0\n[logging]\nlevel = "error"\n${models}`);
    const { exitCode, stdout, stderr } = run(["serve", "--config", config]);
    expect(exitCode).toBe(1);
    expect(stderr).toMatch(message);
    expect(stdout + stderr).not.toMatch(stackTrace);
  }, 30_000);

  test("Should refuse a port in use - one line naming the port and the fix, exit 1", async () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const dir = mkdtempSync(path.join(work, "port-"));
      const config = path.join(dir, "enclave.toml");
      writeFileSync(config, `[server]\nport = ${taken.port}\n[logging]\nlevel = "fatal"\n`);
      const child = Bun.spawn([binary, "serve", "--config", config], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect(exitCode).toBe(1);
      expect(stderr).toContain(`enclave: port ${taken.port} on 127.0.0.1 is in use by another process`);
      expect(stdout + stderr).not.toMatch(stackTrace);
    } finally {
      taken.stop(true);
    }
  }, 60_000);
});
