/**
 * Builds dist/enclave: one executable that needs no Bun, Node or node_modules.
 *
 * `bun build --compile` alone cannot ship node-llama-cpp: its prebuilt binaries come from optional
 * `@node-llama-cpp/*` packages it imports by computed path, and a native addon cannot be loaded
 * from the executable's virtual filesystem. So the binaries and the few data files node-llama-cpp
 * reads are embedded as files, src/bundle/compiled-entry.ts unpacks them to disk at start-up, and
 * a plugin points node-llama-cpp's package root at that directory (src/bundle/node-llama-cpp-root.ts).
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BunPlugin } from "bun";
import { nodeLlamaCppRootGlobal } from "../src/bundle/node-llama-cpp-root";
import { embeddedUiFilesPath, embeddedUiModule } from "../src/ui/build-ui";
import { buildAddon } from "./build-addon";
import { scriptArgs } from "./script-args";

const root = path.resolve(import.meta.dir, "..");
const outfile = path.join(root, "dist", "enclave");
// Real path: the bundler reports loaded files by it, whatever links node_modules is made of.
const nodeLlamaCppDir = await realpath(path.join(root, "node_modules", "node-llama-cpp"));

/** Prebuilt packages per variant. CPU is always included: getLlama falls back to it without a GPU. */
const prebuiltPackages = {
  cpu: ["linux-x64"],
  cuda: ["linux-x64-cuda", "linux-x64-cuda-ext", "linux-x64"],
  vulkan: ["linux-x64-vulkan", "linux-x64"],
} as const;
type Gpu = keyof typeof prebuiltPackages;

/** Evaluates to the directory compiled-entry.ts unpacked node-llama-cpp's files into. */
const rootNotSet = "node-llama-cpp root is not set; start through src/bundle/compiled-entry.ts";
const rootExpression = `(globalThis.${nodeLlamaCppRootGlobal} ?? (() => { throw new Error("${rootNotSet}"); })())`;
const computedDirname = "const __dirname = path.dirname(fileURLToPath(import.meta.url));";

/**
 * Edits to node-llama-cpp's source, each asserted to apply exactly once so that an upgrade fails
 * the build instead of producing a binary that breaks at run time.
 */
const sourceEdits: Record<string, { find: string; replace: string }> = {
  "dist/config.js": {
    find: computedDirname,
    replace: `const __dirname = path.join(${rootExpression}, "dist");`,
  },
  "dist/utils/getModuleVersion.js": {
    find: computedDirname,
    replace: `const __dirname = path.join(${rootExpression}, "dist", "utils");`,
  },
  // The binary self-test forks `__filename` and skips itself (with a warning) when that is not its
  // own file. In the compiled binary the fork re-runs compiled-entry.ts, which hands the child to
  // this module, so the test can run as designed.
  "dist/bindings/utils/testBindingBinary.js": {
    find: "const detectedFileName = path.basename(__filename);",
    replace: 'const detectedFileName = "testBindingBinary.js";',
  },
};

/** The line patches/node-llama-cpp@3.21.1.patch adds, as whitespace minification writes it. */
const patchedLine = "validatedTokens.push([evalTokens[i],resultToken])";

function parseGpu(): Gpu {
  const values = scriptArgs("build", "bun run build [--gpu cpu|cuda|vulkan]", { gpu: { type: "string", default: "cpu" } });
  if (!Object.hasOwn(prebuiltPackages, values.gpu)) {
    throw new Error(`--gpu must be one of ${Object.keys(prebuiltPackages).join(", ")}; got "${values.gpu}"`);
  }
  return values.gpu as Gpu;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Maps each file to embed to its path relative to node-llama-cpp's package root. The addons are the
 * ones scripts/build-addon.ts rebuilt, when it could (CPU and CUDA); Vulkan keeps its prebuilt addon.
 */
async function collectRuntimeFiles(gpu: Gpu, addons: Map<string, string> | null): Promise<Map<string, string>> {
  const version: string = (await Bun.file(path.join(nodeLlamaCppDir, "package.json")).json()).version;
  const files = new Map<string, string>();
  for (const name of prebuiltPackages[gpu]) {
    const packageDir = path.join(root, "node_modules", "@node-llama-cpp", name);
    const packageVersion: string = (await Bun.file(path.join(packageDir, "package.json")).json()).version;
    if (packageVersion !== version) {
      throw new Error(`@node-llama-cpp/${name} is ${packageVersion} but node-llama-cpp is ${version}; run bun install`);
    }
    // cuda-ext's bins/linux-x64-cuda/fallback/ merges into cuda's folder, where Llama looks for it.
    for (const file of await listFiles(path.join(packageDir, "bins"))) {
      files.set(path.relative(packageDir, file), file);
    }
  }
  for (const [folder, addon] of addons ?? []) {
    const relative = `bins/${folder}/llama-addon.node`;
    if (files.has(relative)) files.set(relative, addon);
  }
  files.set("package.json", path.join(nodeLlamaCppDir, "package.json"));
  for (const file of await listFiles(path.join(nodeLlamaCppDir, "llama"))) {
    const relative = path.relative(nodeLlamaCppDir, file);
    if (/^llama\/[^/]+\.json$/.test(relative) || /^llama\/grammars\/.+\.gbnf$/.test(relative)) {
      files.set(relative, file);
    }
  }
  return files;
}

async function hashFiles(files: Map<string, string>): Promise<string> {
  const hash = createHash("sha256");
  for (const [relative, source] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`${relative}\0`);
    hash.update(await Bun.file(source).bytes());
  }
  return hash.digest("hex").slice(0, 12);
}

function embeddedRuntimeModule(runtimeId: string, files: Map<string, string>): string {
  const sources = [...files];
  const imports = sources.map(([, source], i) => `import f${i} from ${JSON.stringify(source)} with { type: "file" };`);
  const entries = sources.map(([relative], i) => `  { path: ${JSON.stringify(relative)}, embedded: f${i} },`);
  return [
    ...imports,
    `export const runtimeId = ${JSON.stringify(runtimeId)};`,
    `export const runtimeFiles = [\n${entries.join("\n")}\n];`,
  ].join("\n");
}

function enclavePlugin(embeddedRuntimePath: string, appliedEdits: Set<string>, uiModule: string): BunPlugin {
  return {
    name: "enclave-compile",
    setup(build) {
      build.onResolve({ filter: /^enclave:embedded-runtime$/ }, () => ({ path: embeddedRuntimePath }));
      // The console (/ui), bundled for the browser and embedded as files (src/ui/embedded-ui-files.ts).
      build.onLoad({ filter: embeddedUiFilesPath }, () => {
        appliedEdits.add("ui");
        return { contents: uiModule, loader: "ts" };
      });
      build.onLoad({ filter: /node-llama-cpp\/dist\/.+\.js$/ }, async (args) => {
        const relative = path.relative(nodeLlamaCppDir, args.path);
        const source = await Bun.file(args.path).text();
        const edit = sourceEdits[relative];
        if (edit === undefined) return { contents: source, loader: "js" };
        if (source.split(edit.find).length !== 2) {
          throw new Error(`node-llama-cpp/${relative}: expected exactly one "${edit.find}"`);
        }
        appliedEdits.add(relative);
        return { contents: source.replace(edit.find, edit.replace), loader: "js" };
      });
    },
  };
}

async function build(gpu: Gpu): Promise<void> {
  const started = performance.now();
  const enclaveVersion: string = (await Bun.file(path.join(root, "package.json")).json()).version;
  const addons = await buildAddon();
  const files = await collectRuntimeFiles(gpu, addons);
  const runtimeId = `${enclaveVersion}-${await hashFiles(files)}`;

  const workDir = await mkdtemp(path.join(os.tmpdir(), "enclave-build-"));
  try {
    const embeddedRuntimePath = path.join(workDir, "embedded-runtime.ts");
    await Bun.write(embeddedRuntimePath, embeddedRuntimeModule(runtimeId, files));
    const appliedEdits = new Set<string>();
    const uiModule = await embeddedUiModule(path.join(workDir, "ui"));
    const result = await Bun.build({
      entrypoints: [path.join(root, "src", "bundle", "compiled-entry.ts")],
      compile: {
        target: "bun-linux-x64",
        outfile,
        // An appliance takes its settings from its config file, never from the working directory.
        autoloadDotenv: false,
        autoloadBunfig: false,
      },
      // Identifiers stay: the JS is a small part of the binary next to llama.cpp, and the patch
      // check below looks for a line by its variable names.
      minify: { whitespace: true, syntax: true, identifiers: false },
      // Embedded in the executable: stack traces name src/ files and lines for ~1 MiB.
      sourcemap: "linked",
      // Precompiled JS starts about 40 ms sooner; ESM because compiled-entry.ts awaits at top level.
      bytecode: true,
      format: "esm",
      // Optional platform packages of node-llama-cpp: absent at run time, where it finds the
      // unpacked bins/ first.
      external: ["@node-llama-cpp/*"],
      plugins: [enclavePlugin(embeddedRuntimePath, appliedEdits, uiModule)],
      throw: false,
    });
    if (!result.success) {
      for (const log of result.logs) console.error(log);
      throw new Error("bun build failed");
    }
    if (!appliedEdits.has("ui")) throw new Error("src/ui/embedded-ui-files.ts never reached the bundle: the binary would have no console");
    const missingEdits = Object.keys(sourceEdits).filter((file) => !appliedEdits.has(file));
    if (missingEdits.length > 0) {
      throw new Error(`node-llama-cpp files never reached the bundle: ${missingEdits.join(", ")}`);
    }
    // The bundle sits in the executable as source text, so this proves the patched
    // node-llama-cpp is what shipped, not just what the bundler read.
    if (!Buffer.from(await Bun.file(outfile).arrayBuffer()).includes(patchedLine)) {
      throw new Error(`the binary lacks "${patchedLine}": node-llama-cpp is not patched; run bun install`);
    }
  } catch (error) {
    // Never leave a binary behind that a later step could ship by mistake.
    await rm(outfile, { force: true });
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    // The executable carries its own copy of the map; this one would only suggest it needs it.
    await rm(`${outfile}.map`, { force: true });
  }

  const size = Bun.file(outfile).size / 2 ** 20;
  const seconds = (performance.now() - started) / 1000;
  const built = `${path.relative(root, outfile)} (${gpu}, runtime ${runtimeId}, ${addons != null ? "rebuilt" : "prebuilt"} addon)`;
  console.log(`built ${built}: ${size.toFixed(0)} MiB in ${seconds.toFixed(1)} s`);
}

await build(parseGpu());
