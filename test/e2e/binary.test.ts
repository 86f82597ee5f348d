/**
 * Drives dist/enclave the way it ships: copied alone into an empty directory, with a fresh cache,
 * and a PATH that holds neither bun nor node. Builds it first when missing or older than any file
 * under src/ (CI builds it ahead), so the test never drives a stale binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import packageJson from "../../package.json" with { type: "json" };
import { freePort } from "../support/free-port";

const root = path.resolve(import.meta.dir, "..", "..");
const builtBinary = path.join(root, "dist", "enclave");
const skip = process.env.ENCLAVE_SKIP_BINARY_TEST === "1";
if (skip) console.warn("test/e2e/binary.test.ts skipped: ENCLAVE_SKIP_BINARY_TEST=1");

let work: string;
let binary: string;
let emptyPath: string;

beforeAll(async () => {
  if (skip) return;
  if (!(await Bun.file(builtBinary).exists()) || statSync(builtBinary).mtimeMs < newestSource()) {
    const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], {
      cwd: root,
      stdout: "inherit",
      stderr: "inherit",
    });
    if (build.exitCode !== 0) throw new Error(`bun scripts/build.ts exited with ${build.exitCode}`);
  }
  work = await mkdtemp(path.join(os.tmpdir(), "enclave-e2e-"));
  await mkdir(path.join(work, "app"));
  binary = path.join(work, "app", "enclave");
  await copyFile(builtBinary, binary);
  await chmod(binary, 0o755);
  emptyPath = path.join(work, "empty-bin");
  await mkdir(emptyPath);
}, 120_000);

/** The newest modification time of anything the binary is built from. */
function newestSource(): number {
  const files = ["package.json", "bun.lock", "scripts/build.ts", ...new Bun.Glob("{src,patches}/**/*").scanSync({ cwd: root })];
  return Math.max(...files.map((file) => statSync(path.join(root, file)).mtimeMs));
}

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Only what a bare host has: no inherited PATH, NODE_PATH or runtime directory. */
function isolatedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: home, XDG_CACHE_HOME: path.join(home, ".cache"), PATH: emptyPath, ...extra };
}

async function run(args: string[], env: Record<string, string>) {
  const child = Bun.spawn([binary, ...args], { cwd: path.dirname(binary), env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, exitCode };
}


describe.skipIf(skip)("dist/enclave", () => {
  test("Should print its version and load llama.cpp - unpacked from scratch, no bun or node on PATH", async () => {
    const home = path.join(work, "home-version");
    const { stdout, stderr, exitCode } = await run(["version"], isolatedEnv(home));

    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(stdout).toContain(`enclave ${packageJson.version}\n`);
    expect(stdout).toMatch(/^llama\.cpp: \S+/m);
    const runtimes = await readdir(path.join(home, ".cache", "enclave", "runtime"));
    expect(runtimes).toEqual([expect.stringMatching(new RegExp(`^${packageJson.version}-[0-9a-f]{12}$`))]);
  });

  test("Should unpack once - processes starting together share one runtime directory", async () => {
    const runtimeDir = path.join(work, "runtime-concurrent");
    const env = isolatedEnv(path.join(work, "home-concurrent"), { ENCLAVE_RUNTIME_DIR: runtimeDir });

    const results = await Promise.all(Array.from({ length: 4 }, () => run(["version"], env)));

    expect(results.map((result) => result.exitCode)).toEqual([0, 0, 0, 0]);
    // One complete directory and no staging leftovers from the processes that lost the race.
    const entries = await readdir(runtimeDir);
    expect(entries).toHaveLength(1);
    expect(await Bun.file(path.join(runtimeDir, entries[0]!, ".complete")).exists()).toBe(true);
  });

  test("Should serve the forged demo model to the official openai SDK - then exit 0 on SIGTERM", async () => {
    const home = path.join(work, "home-serve");
    const dataDir = path.join(work, "data");
    const port = freePort();
    const configPath = path.join(work, "enclave.toml");
    await writeFile(
      configPath,
      `[server]\nhost = "127.0.0.1"\nport = ${port}\n[storage]\ndata_dir = ${JSON.stringify(dataDir)}\n`,
    );
    const server = Bun.spawn([binary, "serve", "--config", configPath], {
      cwd: path.dirname(binary),
      env: isolatedEnv(home),
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = Promise.all([new Response(server.stdout).text(), new Response(server.stderr).text()]);

    try {
      let health: Response | undefined;
      const deadline = Date.now() + 30_000;
      while (health?.status !== 200 && server.exitCode === null && Date.now() < deadline) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        if (health?.status !== 200) await Bun.sleep(100);
      }
      if (health?.status !== 200) {
        server.kill("SIGKILL");
        const [stdout, stderr] = await output;
        throw new Error(`GET /health answered ${health?.status ?? "nothing"}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      }
      expect(health.headers.get("content-type")).toContain("application/json");
      expect(await health.json()).toBeObject();

      while ((await fetch(`http://127.0.0.1:${port}/ready`)).status !== 200 && Date.now() < deadline) await Bun.sleep(100);
      const created = await run(["keys", "create", "--role", "user", "--name", "e2e", "--config", configPath], isolatedEnv(home));
      expect(created.exitCode).toBe(0);
      const apiKey = created.stdout.match(/enk_[A-Za-z0-9]+/)?.[0];
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey });
      const reply = await client.chat.completions.create({ model: "demo", messages: [{ role: "user", content: "hello" }] });
      // The forged demo model's chat rule: every reply is the alphabet in capitals, then a full stop.
      expect(reply.choices[0]!.message.content).toBe("ABCDEFGHIJKLMNOPQRSTUVWXYZ.");
      const stream = await client.chat.completions.create({ model: "demo", messages: [{ role: "user", content: "hello" }], stream: true });
      let streamed = "";
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
      expect(streamed).toBe("ABCDEFGHIJKLMNOPQRSTUVWXYZ.");

      // One server per data dir: a second refuses, naming the first one's pid.
      const second = await run(["serve", "--config", configPath], isolatedEnv(home));
      expect({ exitCode: second.exitCode, stderr: second.stderr.trim() }).toEqual({ exitCode: 1, stderr: expect.stringContaining(`(pid ${server.pid})`) });

      server.kill("SIGTERM");
      const exitCode = await server.exited;
      const [stdout, stderr] = await output;
      expect({ exitCode, stdout, stderr }).toMatchObject({ exitCode: 0 });
      expect(await Bun.file(path.join(dataDir, "enclave.lock")).exists()).toBe(false);
    } finally {
      server.kill("SIGKILL");
    }
  }, 60_000);
});
