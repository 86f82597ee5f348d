/**
 * Rebuilds node-llama-cpp's native addon (llama-addon.node) from its patched source against the
 * prebuilt llama.cpp libraries of @node-llama-cpp/linux-x64, and of @node-llama-cpp/linux-x64-cuda
 * where that is installed, and installs each beside its libraries in node-llama-cpp's own
 * bins/linux-x64/ and bins/linux-x64-cuda/, the first places it looks for a binary.
 *
 *   bun scripts/build-addon.ts        (postinstall; `bun run build` calls it too)
 *
 * Only the addon is rebuilt because only it changes (patches/node-llama-cpp@3.21.1.patch attaches a
 * persistent ggml threadpool to each context, gives it a unified KV cache option, copies sequence
 * states to memory, decodes a lone sequence's token with the sampling of the next in one call, decodes
 * short batch steps on the calling thread, decodes runs of steps in one async work, and keeps that
 * thread on the CPU it last decoded from), so
 * this takes seconds instead of the many minutes a
 * llama.cpp build takes on a small machine. The result is cached in .cache/addon/ by a hash of
 * everything it is built from. Without a compiler, git or headers it warns once and leaves the
 * prebuilt addon in place: an install never fails for this.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, realpath, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dir, "..");
const cacheDir = path.join(root, ".cache");
const prebuiltFolder = "linux-x64";

/** The llama.cpp directories the addon's includes reach: public headers, common/, and src/ internals. */
const headerDirs = ["include", "ggml/include", "common", "src", "vendor"];
/** The libraries the prebuilt addon links, found in its own directory at run time ($ORIGIN). */
export const linkedLibraries = ["libllama-common.so", "libllama.v0.4.0.so", "libggml.v0.4.0.so", "libggml-base.so"];
/**
 * A prebuilt variant of node-llama-cpp the addon is linked for: its bins folder, the packages that
 * fill it (cuda-ext's fallback/ merges into cuda's folder), and the libraries the addon links there.
 * The CUDA build names its llama.cpp and ggml libraries apart and loads its GPU backend
 * (libggml-cuda.so) at run time, so the same objects link against it without a CUDA toolkit; left
 * prebuilt, a GPU server ran none of the patch's native code (the JavaScript falls back without it).
 */
export interface AddonVariant {
  folder: string;
  packages: string[];
  libraries: string[];
}

export const addonVariants: AddonVariant[] = [
  { folder: prebuiltFolder, packages: [prebuiltFolder], libraries: linkedLibraries },
  { folder: "linux-x64-cuda", packages: ["linux-x64-cuda", "linux-x64-cuda-ext"], libraries: ["libllama-common.so", "libllama.cuda.v0.4.0.so", "libggml.cuda.v0.4.0.so", "libggml-base.so"] },
];

/** As node-llama-cpp's CMakeLists.txt compiles the addon in its Release build. */
const compileFlags = ["-std=c++17", "-O3", "-DNDEBUG", "-fPIC", "-fexceptions", "-DNAPI_VERSION=7", "-DLLAMA_SHARED", "-DGGML_SHARED", "-DGGML_BACKEND_SHARED"];

export interface AddonPaths {
  /** node-llama-cpp's package directory. */
  nodeLlamaCpp: string;
  /** The prebuilt binaries this addon is linked against. */
  prebuilt: string;
  /** Where node-llama-cpp looks first: the prebuilt libraries beside the rebuilt addon. */
  installed: string;
}

export async function addonPaths(): Promise<AddonPaths> {
  const nodeLlamaCpp = await realpath(path.join(root, "node_modules", "node-llama-cpp"));
  return {
    nodeLlamaCpp,
    prebuilt: path.join(root, "node_modules", "@node-llama-cpp", prebuiltFolder, "bins", prebuiltFolder),
    installed: path.join(nodeLlamaCpp, "bins", prebuiltFolder),
  };
}

async function run(command: string[], cwd = root): Promise<string> {
  let child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    child = Bun.spawn(command, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch {
    throw new Error(`${command[0]} is not installed`);
  }
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) {
    const firstError = stderr.split("\n").find((line) => /error/i.test(line)) ?? stderr.trim().split("\n")[0] ?? "";
    throw new Error(`${path.basename(command[0]!)} exited with ${code}: ${firstError.trim()}`);
  }
  return stdout;
}

async function listFiles(dir: string, pattern: RegExp): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** Writes a directory under a temporary name and renames it into place, so no reader sees it half made. */
async function writeDirectory(dir: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await fill(staging);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The llama.cpp headers of the exact commit node-llama-cpp ships, from its git bundle. */
async function llamaCppHeaders(paths: AddonPaths, commit: string): Promise<string> {
  const dir = path.join(cacheDir, "llama.cpp-headers", commit);
  if (await Bun.file(path.join(dir, "include", "llama.h")).exists()) return dir;
  const bundle = path.join(paths.nodeLlamaCpp, "llama", "gitRelease.bundle");
  await writeDirectory(dir, async (staging) => {
    const clone = path.join(staging, ".git-clone");
    await run(["git", "clone", "--quiet", "--no-checkout", bundle, clone]);
    await run(["git", "-C", clone, "checkout", "--quiet", commit, "--", ...headerDirs]);
    for (const headerDir of headerDirs) {
      await mkdir(path.dirname(path.join(staging, headerDir)), { recursive: true });
      await rename(path.join(clone, headerDir), path.join(staging, headerDir));
    }
    await rm(clone, { recursive: true, force: true });
  });
  return dir;
}

/** A variant's prebuilt folders, the first holding its libraries and addon, where its packages are installed. */
function variantPrebuilt(variant: AddonVariant): string[] {
  return variant.packages.map((name) => path.join(root, "node_modules", "@node-llama-cpp", name, "bins", variant.folder));
}

/** The variants whose prebuilt package is installed (the CPU one always is where the addon builds). */
async function installedVariants(): Promise<AddonVariant[]> {
  const found: AddonVariant[] = [];
  for (const variant of addonVariants) {
    if (await Bun.file(path.join(variantPrebuilt(variant)[0]!, "llama-addon.node")).exists()) found.push(variant);
  }
  return found;
}

/** Compiles the addon's sources once and links them into one addon per variant, at `outputDir/<folder>/llama-addon.node`. */
async function compile(headers: string, sources: string[], variants: AddonVariant[], outputDir: string): Promise<void> {
  const includes = [
    ...["include", "ggml/include", "", "common", "src", "vendor"].map((dir) => `-I${path.join(headers, dir)}`),
    `-I${path.join(root, "node_modules", "node-addon-api")}`,
    `-I${path.join(root, "node_modules", "node-api-headers", "include")}`,
  ];
  const objectsDir = path.join(outputDir, "obj");
  await mkdir(objectsDir, { recursive: true });
  const objects = sources.map((source, i) => path.join(objectsDir, `${i}-${path.basename(source)}.o`));
  const queue = sources.map((source, i) => ["g++", ...compileFlags, ...includes, "-c", source, "-o", objects[i]!]);
  const worker = async () => {
    for (let command = queue.shift(); command != null; command = queue.shift()) await run(command);
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
  // Node-API symbols stay undefined: the runtime that loads the addon (Bun) provides them.
  for (const variant of variants) {
    const output = path.join(outputDir, variant.folder, "llama-addon.node");
    await mkdir(path.dirname(output), { recursive: true });
    const libraries = variant.libraries.map((lib) => `-l:${lib}`);
    await run(["g++", "-shared", "-o", output, ...objects, `-L${variantPrebuilt(variant)[0]}`, ...libraries, "-Wl,-rpath,$ORIGIN"]);
  }
  await rm(objectsDir, { recursive: true, force: true });
}

/** A hash of everything the addon is built from: its source, the llama.cpp commit, the libraries, the compiler and flags. */
async function buildKey(sources: string[], commit: string, paths: AddonPaths, compiler: string, variants: AddonVariant[]): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`${commit}\0${compiler}\0${compileFlags.join(" ")}\0`);
  for (const file of [...sources, ...(await listFiles(path.join(paths.nodeLlamaCpp, "llama", "addon"), /\.h$/))]) {
    hash.update(`${path.relative(paths.nodeLlamaCpp, file)}\0`);
    hash.update(await Bun.file(file).bytes());
  }
  for (const variant of variants) {
    hash.update(`${variant.folder}\0`);
    for (const lib of variant.libraries) hash.update(await Bun.file(path.join(variantPrebuilt(variant)[0]!, lib)).bytes());
  }
  return hash.digest("hex").slice(0, 16);
}

/** Builds (or finds in the cache) the addon of each installed variant and installs them; returns their paths by folder. */
async function buildAndInstall(paths: AddonPaths): Promise<Map<string, string>> {
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error(`no rebuild for ${process.platform}-${process.arch}`);
  if (!(await Bun.file(path.join(paths.prebuilt, "llama-addon.node")).exists())) throw new Error(`${paths.prebuilt} has no prebuilt addon`);
  const variants = await installedVariants();
  const bundle = path.join(paths.nodeLlamaCpp, "llama", "gitRelease.bundle");
  const commit = (await run(["git", "bundle", "list-heads", bundle])).split(/\s/)[0]!;
  const compiler = (await run(["g++", "--version"])).split("\n")[0]!;
  const sources = await listFiles(path.join(paths.nodeLlamaCpp, "llama", "addon"), /\.cpp$/);
  const key = await buildKey(sources, commit, paths, compiler, variants);

  const builtDir = path.join(cacheDir, "addon", key);
  const built = new Map(variants.map((variant) => [variant.folder, path.join(builtDir, variant.folder, "llama-addon.node")]));
  if (!(await Promise.all([...built.values()].map((file) => Bun.file(file).exists()))).every(Boolean)) {
    const started = performance.now();
    const headers = await llamaCppHeaders(paths, commit);
    await writeDirectory(builtDir, (staging) => compile(headers, sources, variants, staging));
    const folders = variants.map((variant) => variant.folder).join(", ");
    console.log(`enclave: rebuilt llama-addon.node (${folders}) with a persistent threadpool in ${((performance.now() - started) / 1000).toFixed(1)} s (${path.relative(root, builtDir)})`);
  }

  for (const variant of variants) {
    const addon = built.get(variant.folder)!;
    const installed = path.join(paths.nodeLlamaCpp, "bins", variant.folder);
    const installedAddon = path.join(installed, "llama-addon.node");
    const current = (await Bun.file(installedAddon).exists()) ? Bun.hash(await Bun.file(installedAddon).bytes()) : null;
    if (current === Bun.hash(await Bun.file(addon).bytes())) continue;
    await writeDirectory(installed, async (staging) => {
      for (const prebuilt of variantPrebuilt(variant)) await cp(prebuilt, staging, { recursive: true });
      await cp(addon, path.join(staging, "llama-addon.node"));
    });
  }
  return built;
}

/**
 * Builds (or finds in the cache) and installs the rebuilt addons; returns their paths by bins folder,
 * or null after one warning when they cannot be built, with node-llama-cpp's prebuilt addons left to
 * load instead.
 */
export async function buildAddon(): Promise<Map<string, string> | null> {
  const paths = await addonPaths();
  try {
    return await buildAndInstall(paths);
  } catch (error) {
    // A stale rebuild from other sources must not stay where node-llama-cpp looks first.
    for (const variant of addonVariants) await rm(path.join(paths.nodeLlamaCpp, "bins", variant.folder), { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`enclave: warning: using node-llama-cpp's prebuilt addon (${reason}); with threads > 1 each token then costs milliseconds more, concurrent streams batch only on consecutive sequences, and prompt_cache_mb is off; the rebuild needs g++ and git`);
    return null;
  }
}

if (import.meta.main) await buildAddon();
