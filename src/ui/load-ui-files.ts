import { embeddedUiFiles } from "./embedded-ui-files";
import { UI_CONTENT_TYPES, type UiFile } from "./ui-files";

/**
 * The console's files: those embedded in the compiled binary, or (running from source) bundled in
 * memory by the same build the binary's came from. Called once, on the first request for /ui.
 */
export async function loadUiFiles(): Promise<UiFile[]> {
  if (embeddedUiFiles == null) {
    const { buildUiFiles } = await import("./build-ui");
    return buildUiFiles();
  }
  return Promise.all(
    embeddedUiFiles.map(async ({ name, path }) => ({ name, contentType: UI_CONTENT_TYPES[name] ?? "application/octet-stream", body: await Bun.file(path).bytes() })),
  );
}
