/**
 * llama-server beside Enclave, for side-by-side benchmarks: `LLAMA_SERVER` points at a build of
 * the llama.cpp release node-llama-cpp bundles (`node_modules/node-llama-cpp/llama/gitRelease.bundle`,
 * built under the ignored `.cache/`). LD_LIBRARY_PATH cannot put it on node-llama-cpp's prebuilt
 * ggml: a CMake build links its own libggml*.so.0 by RPATH under other sonames. So the peer runs
 * the same llama.cpp commit with ggml compiled by its own build; build it with -DGGML_NATIVE=OFF
 * on Sapphire Rapids (a native build crashes in AMX on prompts).
 */
import type { Subprocess } from "bun";

export interface LlamaServerPeer extends AsyncDisposable {
  /** Base URL, e.g. http://127.0.0.1:18089 (OpenAI routes under /v1). */
  url: string;
}

export interface LlamaServerOptions {
  model: string;
  /** Draft model for its speculative decoding (`--spec-type draft-simple`); none by default. */
  draft?: string;
  parallel: number;
  /** Tokens per slot; llama-server divides `-c` among its slots. */
  contextPerSlot: number;
  threads: number;
  port?: number;
}

/** The binary named by LLAMA_SERVER, or null when the variable is unset. */
export function llamaServerBinary(): string | null {
  const binary = process.env.LLAMA_SERVER;
  return binary == null || binary === "" ? null : binary;
}

/** Starts llama-server and resolves once its /health answers 200; disposing it stops the process. */
export async function startLlamaServer(binary: string, options: LlamaServerOptions): Promise<LlamaServerPeer> {
  const port = options.port ?? 18_089;
  const args = [
    "-m", options.model,
    "--host", "127.0.0.1",
    "--port", String(port),
    "-np", String(options.parallel),
    "-c", String(options.contextPerSlot * options.parallel),
    "-t", String(options.threads),
    "-tb", String(options.threads),
    "--no-webui",
    ...(options.draft != null ? ["-md", options.draft, "--spec-type", "draft-simple", "-td", "1"] : []),
  ];
  const child: Subprocess<"ignore", "ignore", "pipe"> = Bun.spawn([binary, ...args], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  // Read all along, keeping the tail for an error: an unread pipe fills up with llama-server's log
  // (with 8 slots before it even listens) and blocks it mid-write.
  let stderrTail = "";
  const draining = (async () => {
    const decoder = new TextDecoder();
    for await (const bytes of child.stderr) stderrTail = (stderrTail + decoder.decode(bytes, { stream: true })).slice(-2000);
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode != null) {
      await draining;
      throw new Error(`llama-server exited with ${child.exitCode}: ${stderrTail}`);
    }
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
    async [Symbol.asyncDispose]() {
      child.kill();
      await child.exited;
      await draining;
    },
  };
}
