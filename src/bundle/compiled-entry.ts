/**
 * Entry point of the compiled binary (scripts/build.ts): unpacks llama.cpp before the app loads.
 */
import path from "node:path";
import { runtimeFiles, runtimeId } from "enclave:embedded-runtime";
import { setNodeLlamaCppRoot } from "./node-llama-cpp-root";
import { runBindingTestChild } from "./run-binding-test-child";
import { runtimeBaseDir } from "./runtime-base-dir";
import { unpackRuntime } from "./unpack-runtime";

const runtimeDir = path.join(runtimeBaseDir(process.env), runtimeId);
try {
  await unpackRuntime(runtimeDir, runtimeFiles);
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(`enclave: cannot unpack the llama.cpp runtime into ${runtimeDir}: ${reason}`);
  console.error("enclave: set ENCLAVE_RUNTIME_DIR to a writable directory");
  process.exit(1);
}
setNodeLlamaCppRoot(runtimeDir);

// node-llama-cpp tests a native binary before loading it by forking `process.execPath`, which in a
// compiled binary is this entry again; that child must run the test and nothing else.
const isBindingTestChild = process.env.TEST_BINDING_CP === "true" && process.send != null;
if (isBindingTestChild) await runBindingTestChild();
else await import("../main");
