/**
 * The bench scripts' command lines (scripts/script-args.ts), driven as a user types them: usage on
 * --help, one line and exit 2 for an unknown option, one line and exit 1 for a bad number, and never
 * a stack trace. Each fails before it forges a model or starts a server.
 */
import { describe, expect, test } from "bun:test";
import path from "node:path";

const root = path.resolve(import.meta.dir, "..", "..");
const stackTrace = /\n\s+at \S|^\s*\d+ \| |\^$/m;
const scripts = ["api", "cache", "concurrency", "limits", "overhead", "spec", "store"];

function run(script: string, args: string[]) {
  const result = Bun.spawnSync([process.execPath, path.join(root, "scripts", `bench-${script}.ts`), ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe.each(scripts)("bench:%s", (script) => {
  test("--help prints the usage and exits 0", () => {
    const { exitCode, stdout } = run(script, ["--help"]);
    expect(exitCode).toBe(0);
    expect(stdout).toStartWith(`usage: bun run bench:${script} `);
  });

  test("an unknown option is one line and the usage, exit 2", () => {
    const { exitCode, stderr } = run(script, ["--no-such-option"]);
    expect(exitCode).toBe(2);
    expect(stderr).toStartWith(`bench:${script}: Unknown option '--no-such-option'`);
    expect(stderr).toContain(`usage: bun run bench:${script} `);
    expect(stderr).not.toMatch(stackTrace);
  });
});

test("a number option that is not a number names the option, exit 1", () => {
  const { exitCode, stderr } = run("spec", ["--tokens", "many"]);
  expect(exitCode).toBe(1);
  expect(stderr.trim()).toBe('bench:spec: --tokens must be a number of at least 0; got "many"');
});
