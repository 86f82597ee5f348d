import { ENCLAVE_VERSION } from "../version";

/** Prints Enclave's version, then loads llama.cpp to report its release (proves the binary's addon loads). */
export async function versionCommand(_args: string[]): Promise<number> {
  console.log(`enclave ${ENCLAVE_VERSION}`);
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: 1, logLevel: LlamaLogLevel.error });
  console.log(`llama.cpp: ${llama.llamaCppRelease.release} (${llama.llamaCppRelease.repo})`);
  console.log(`runtime: bun ${Bun.version}, ${process.platform}-${process.arch}`);
  await llama.dispose();
  return 0;
}
