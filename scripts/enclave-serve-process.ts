/**
 * Enclave as a user runs it, for benchmarks that compare it with another server: `enclave serve` in
 * its own process on a generated config and data dir, called with a key made by `enclave keys create`.
 * A server in the benchmark's own process would share its event loop with the client reading the
 * stream, which the peer it is compared with does not.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../test/support/free-port";

const main = resolve(import.meta.dir, "../src/main.ts");

export interface EnclaveServeProcess extends AsyncDisposable {
  /** Base URL, e.g. http://127.0.0.1:41234 (OpenAI routes under /v1). */
  url: string;
  /** The Authorization header for its key. */
  headers: Record<string, string>;
  /** Its process id, for untilIdle. */
  pid: number;
}

export interface EnclaveServeOptions {
  /** The TOML of one `[[models]]` table, without its header. */
  models: string;
  /** llama.cpp's threads in all (`engine.max_threads`). */
  threads: number;
  /** More TOML tables, e.g. `[limits]`. */
  tables?: string;
  /** `[engine] gpu`, default "cpu"; "cuda" also puts every layer of the model on the GPU (`gpu_layers = "max"`). */
  gpu?: "cpu" | "cuda";
}

export async function startEnclaveServe(options: EnclaveServeOptions): Promise<EnclaveServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), "enclave-bench-"));
  const port = freePort();
  const config = join(dir, "enclave.toml");
  writeFileSync(
    config,
    [
      "[server]", 'host = "127.0.0.1"', `port = ${port}`,
      "[storage]", `data_dir = ${JSON.stringify(join(dir, "data"))}`,
      "[engine]", `gpu = "${options.gpu ?? "cpu"}"`, `max_threads = ${options.threads}`,
      "[logging]", 'level = "warn"',
      options.tables ?? "",
      "[[models]]", options.models, ...(options.gpu === "cuda" ? ['gpu_layers = "max"'] : []), "",
    ].join("\n"),
  );
  const created = Bun.spawnSync([process.execPath, main, "keys", "create", "--role", "admin", "--name", "bench", "--config", config, "--json", "--init"], { stdout: "pipe", stderr: "pipe" });
  if (created.exitCode !== 0) throw new Error(`enclave keys create failed: ${created.stderr.toString()}`);
  const secret = (JSON.parse(created.stdout.toString()) as { secret: string }).secret;
  const log = join(dir, "serve.log");
  const child: Subprocess = Bun.spawn([process.execPath, main, "serve", "--config", config], { stdout: "ignore", stderr: Bun.file(log) });
  const url = `http://127.0.0.1:${port}`;
  const dispose = async () => {
    child.kill("SIGTERM");
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while ((await fetch(`${url}/ready`).then((response) => response.status, () => 0)) !== 200) {
    if (child.exitCode != null || Date.now() > deadline) {
      const why = await Bun.file(log).text().catch(() => "");
      await dispose();
      throw new Error(`enclave serve did not become ready: ${why.slice(-2000)}`);
    }
    await Bun.sleep(100);
  }
  return { url, headers: { authorization: `Bearer ${secret}` }, pid: child.pid, [Symbol.asyncDispose]: dispose };
}
