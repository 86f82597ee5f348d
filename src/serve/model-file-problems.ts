import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Config } from "../config/schema";

const GGUF_MAGIC = "GGUF";

/**
 * What is wrong with the configured model files before anything loads them: a path that does not
 * exist, is not a file, or does not start with the GGUF magic. One line each, naming the setting
 * to fix; llama.cpp would otherwise fail later with a message about its own internals.
 */
export function modelFileProblems(config: Pick<Config, "models">): string[] {
  const problems: string[] = [];
  config.models.forEach((model, index) => {
    const files = [{ key: `models[${index}].path`, path: model.path }, ...(model.draft ? [{ key: `models[${index}].draft.path`, path: model.draft.path }] : [])];
    for (const { key, path } of files) {
      const problem = fileProblem(path);
      if (problem != null) problems.push(`${key} (model '${model.id}'): ${path} ${problem}`);
    }
  });
  return problems;
}

function fileProblem(path: string): string | null {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return "is not a file; point it at a .gguf model file";
    size = stat.size;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === "ENOENT" ? "does not exist; fix the path or put the model there" : `cannot be read (${code ?? "error"}); enclave needs read permission on it`;
  }
  if (size < GGUF_MAGIC.length) return "is not a GGUF file (too short); point it at a .gguf model file";
  const magic = Buffer.alloc(GGUF_MAGIC.length);
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, magic, 0, magic.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return `cannot be read (${(error as { code?: string }).code ?? "error"}); enclave needs read permission on it`;
  }
  return magic.toString("latin1") === GGUF_MAGIC ? null : "is not a GGUF file (no GGUF header); point it at a .gguf model file, e.g. one from Hugging Face ending in .gguf";
}
