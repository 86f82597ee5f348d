import { mkdir } from "node:fs/promises";
import path from "node:path";
import { ENCLAVE_VERSION } from "../version";
import { indexHtml } from "./index-html";
import { UI_CONTENT_TYPES, type UiFile } from "./ui-files";

const entrypoint = path.join(import.meta.dir, "app", "main.tsx");

/**
 * Bundles the console (Preact + uPlot + src/ui/app) for the browser, minified, into one JS and
 * one CSS file plus index.html, in memory. `bun src/main.ts serve` runs it on the first request
 * for /ui; scripts/build.ts runs it once and embeds the result in the binary.
 */
export async function buildUiFiles(): Promise<UiFile[]> {
  const result = await Bun.build({
    entrypoints: [entrypoint],
    target: "browser",
    format: "esm",
    minify: true,
    splitting: false,
    sourcemap: "none",
    naming: { entry: "app.[ext]", asset: "[name].[ext]", chunk: "[name].[ext]" },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    throw: false,
  });
  if (!result.success) throw new Error(`the console failed to bundle:\n${result.logs.map(String).join("\n")}`);
  const files: UiFile[] = [{ name: "index.html", contentType: UI_CONTENT_TYPES["index.html"]!, body: new TextEncoder().encode(indexHtml(ENCLAVE_VERSION)) }];
  for (const output of result.outputs) {
    const name = path.basename(output.path);
    const contentType = UI_CONTENT_TYPES[name];
    if (contentType == null) throw new Error(`the console bundle has an unexpected file '${name}'`);
    files.push({ name, contentType, body: new Uint8Array(await output.arrayBuffer()) });
  }
  for (const name of Object.keys(UI_CONTENT_TYPES))
    if (!files.some((file) => file.name === name)) throw new Error(`the console bundle lacks '${name}'`);
  return files;
}

/**
 * For scripts/build.ts: bundles the console into `dir` and returns the source of the module that
 * replaces src/ui/embedded-ui-files.ts in the binary, importing each file so it is embedded.
 */
export async function embeddedUiModule(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const files = await buildUiFiles();
  const lines: string[] = [];
  const entries: string[] = [];
  for (const [i, file] of files.entries()) {
    const target = path.join(dir, file.name);
    await Bun.write(target, file.body);
    lines.push(`import f${i} from ${JSON.stringify(target)} with { type: "file" };`);
    entries.push(`{ name: ${JSON.stringify(file.name)}, path: f${i} }`);
  }
  return `${lines.join("\n")}\nexport const embeddedUiFiles = [${entries.join(", ")}];\n`;
}

/** Matches the module embeddedUiModule's output replaces, by its path. */
export const embeddedUiFilesPath = /src[\\/]ui[\\/]embedded-ui-files\.ts$/;
