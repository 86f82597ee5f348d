/**
 * node-llama-cpp finds its package.json, `llama/` and `bins/` relative to its own files. Inside the
 * compiled binary those files live in Bun's read-only virtual filesystem, where a native addon
 * cannot be loaded, so scripts/build.ts rewrites that lookup to read this global instead and
 * compiled-entry.ts points it at the unpacked runtime directory before node-llama-cpp loads.
 */
export const nodeLlamaCppRootGlobal = "__enclaveNodeLlamaCppRoot";

export function setNodeLlamaCppRoot(dir: string): void {
  Reflect.set(globalThis, nodeLlamaCppRootGlobal, dir);
}
