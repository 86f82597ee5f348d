/**
 * llama-server beside Enclave, for side-by-side benchmarks: `LLAMA_SERVER` points at a build of
 * the llama.cpp release node-llama-cpp bundles (`node_modules/node-llama-cpp/llama/gitRelease.bundle`,
 * built under the ignored `.cache/`; -DGGML_NATIVE=OFF, as a native build crashes in AMX on
 * Sapphire Rapids).
 *
 * It runs on Enclave's own llama.cpp and ggml libraries, so both sides use the same kernels: its
 * own build's kernels differ (an AVX2 build against the AVX-512 variant ggml picks here made the
 * forged tiny model's decode 3x faster on its side alone). Its libraries are found by RUNPATH,
 * which LD_LIBRARY_PATH overrides, under versioned sonames that node-llama-cpp's prebuilt
 * libraries do not carry, so a folder beside the binary links each soname to Enclave's library.
 * It runs in Enclave's runtime folder, where ggml looks for its CPU variants.
 */
import { mkdir, readlink, symlink, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Subprocess } from "bun";
import type { ModelConfig } from "../src/config/schema";
import { useMmapFor } from "../src/inference/weights-in-memory";
import { freePort } from "../test/support/free-port";
import { addonPaths, addonVariants } from "./build-addon";

export interface LlamaServerPeer extends AsyncDisposable {
  /** Base URL, e.g. http://127.0.0.1:41234 (OpenAI routes under /v1). */
  url: string;
  /** The end of its log, to say why it failed. */
  logTail(): Promise<string>;
  /** Its process id, for untilIdle. */
  pid: number;
}

export interface LlamaServerOptions {
  model: string;
  /** Draft model for its speculative decoding (`--spec-type draft-simple`); none by default. */
  draft?: string;
  parallel: number;
  /** Tokens per slot; llama-server divides `-c` among its slots. */
  contextPerSlot: number;
  threads: number;
  /** Its `-fa`; llama-server's own default (auto) when absent. */
  flashAttention?: "auto" | "on" | "off";
  /** One KV cache for all slots (`-kvu`); llama-server's default with an explicit `-np` is one per slot. */
  kvUnified?: boolean;
  /** Enclave's model setting, resolved as Enclave resolves it (see useMmapFor): read gives `--no-mmap`. Default "auto". */
  mmap?: ModelConfig["mmap"];
  /** "cuda": every layer on the GPU (`-ngl 999`), on the libraries of Enclave's CUDA addon. Default "cpu". */
  gpu?: "cpu" | "cuda";
  port?: number;
}

/** The binary named by LLAMA_SERVER, or null when the variable is unset. */
export function llamaServerBinary(): string | null {
  const binary = process.env.LLAMA_SERVER;
  return binary == null || binary === "" ? null : binary;
}

/** The soname a llama.cpp CMake build links for one of node-llama-cpp's libraries: libggml.v0.4.0.so and libggml.cuda.v0.4.0.so are libggml.so.0. */
function cmakeSoname(library: string): string {
  return `${library.replace(/(\.cuda)?\.v[0-9.]+\.so$/, ".so")}.0`;
}

/** A folder beside the binary linking the sonames it needs to the libraries in `runtime`. */
async function enclaveLibraryLinks(binary: string, runtime: string, libraries: string[]): Promise<string> {
  const folder = join(dirname(binary), `enclave-runtime-libs-${basename(runtime)}`);
  await mkdir(folder, { recursive: true });
  for (const library of libraries) {
    const link = join(folder, cmakeSoname(library));
    const target = join(runtime, library);
    if ((await readlink(link).catch(() => null)) === target) continue;
    await unlink(link).catch(() => {});
    await symlink(target, link);
  }
  return folder;
}

/** Starts llama-server and resolves once its /health answers 200; disposing it stops the process. */
export async function startLlamaServer(binary: string, options: LlamaServerOptions): Promise<LlamaServerPeer> {
  // A fixed default port would reach a llama-server left over from an earlier run, which answers
  // /health while this one exits on "couldn't bind".
  const port = options.port ?? freePort();
  const variant = addonVariants.find(({ folder }) => folder === (options.gpu === "cuda" ? "linux-x64-cuda" : "linux-x64"))!;
  const runtime = join((await addonPaths()).nodeLlamaCpp, "bins", variant.folder);
  const libraries = await enclaveLibraryLinks(resolve(binary), runtime, variant.libraries);
  const args = [
    "-m", resolve(options.model),
    "--host", "127.0.0.1",
    "--port", String(port),
    "-np", String(options.parallel),
    "-c", String(options.contextPerSlot * options.parallel),
    "-t", String(options.threads),
    "-tb", String(options.threads),
    "--no-webui",
    ...(options.flashAttention != null ? ["-fa", options.flashAttention] : []),
    ...(options.kvUnified === true ? ["-kvu"] : []),
    ...(options.gpu === "cuda" ? ["-ngl", "999"] : []),
    ...(useMmapFor({ mmap: options.mmap ?? "auto", gpu_layers: options.gpu === "cuda" ? "max" : 0, path: options.model }, options.gpu === "cuda") === false ? ["--no-mmap"] : []),
    ...(options.draft != null ? ["-md", resolve(options.draft), "--spec-type", "draft-simple", "-td", "1"] : []),
  ];
  // Its log goes to a file: an undrained pipe fills after some requests and blocks the server mid-benchmark.
  const log = join(dirname(binary), "llama-server-peer.log");
  const child: Subprocess = Bun.spawn([resolve(binary), ...args], {
    cwd: runtime,
    env: { ...process.env, LD_LIBRARY_PATH: `${libraries}:${runtime}` },
    stdout: "ignore",
    stderr: Bun.file(log),
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`llama-server exited with ${child.exitCode}: ${await logTail(log)}`);
    const healthy = await fetch(`${url}/health`).then((response) => response.status === 200, () => false);
    if (healthy) break;
    await Bun.sleep(200);
  }
  if (Date.now() >= deadline) {
    child.kill();
    throw new Error("llama-server did not become healthy in 120 s");
  }
  return {
    url,
    logTail: () => logTail(log),
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      child.kill();
      await child.exited;
    },
  };
}

async function logTail(log: string): Promise<string> {
  return (await Bun.file(log).text().catch(() => "")).slice(-2000);
}
