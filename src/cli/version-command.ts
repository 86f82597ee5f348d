import { ENCLAVE_VERSION } from "../version";
import { defineCommand } from "./command-spec";
import { parseCommandLine } from "./parse-command-line";

const spec = defineCommand({ name: "version", description: "print the versions of Enclave, llama.cpp and the runtime", options: {} });

/** Prints Enclave's version, then loads llama.cpp to report its release (proves the binary's addon loads). */
export async function versionCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(spec, args);
  if (typeof parsed === "number") return parsed;
  console.log(`enclave ${ENCLAVE_VERSION}`);
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: 1, logLevel: LlamaLogLevel.error });
  console.log(`llama.cpp: ${llama.llamaCppRelease.release} (${llama.llamaCppRelease.repo})`);
  console.log(`runtime: bun ${Bun.version}, ${process.platform}-${process.arch}`);
  await llama.dispose();
  return 0;
}
