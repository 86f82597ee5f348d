import type { ForgedModel } from "./successor-rule";

/** The file a forged model is written to, so a config can name it before (or without) forging. */
export function forgedFileName(preset: string, which: ForgedModel): string {
  return `${preset}-${which}.gguf`;
}
