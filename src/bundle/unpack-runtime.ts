import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";

/** `path` is relative to the runtime directory; `embedded` is where the file sits in `/$bunfs/`. */
export type EmbeddedFile = { path: string; embedded: string };

const completeMarker = ".complete";

/**
 * Copies the embedded files into `dir` once and returns `dir`. The files are written to a sibling
 * staging directory that is renamed into place, so a process never sees a half-written runtime,
 * and two processes starting at once both end up using whichever copy was renamed first.
 */
export async function unpackRuntime(dir: string, files: ReadonlyArray<EmbeddedFile>): Promise<string> {
  const marker = path.join(dir, completeMarker);
  if (await Bun.file(marker).exists()) return dir;

  await mkdir(path.dirname(dir), { recursive: true });
  const staging = await mkdtemp(`${dir}.partial-`);
  try {
    await Promise.all(files.map((file) => Bun.write(path.join(staging, file.path), Bun.file(file.embedded))));
    await Bun.write(path.join(staging, completeMarker), "");
    await rename(staging, dir);
  } catch (error) {
    // Losing the rename race to another process is fine; anything else leaves no usable runtime.
    if (!(await Bun.file(marker).exists())) throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return dir;
}
