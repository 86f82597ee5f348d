import { realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { InvalidRequestError } from "../errors";
import { readGgufHeader } from "../forge/read-gguf-header";

/**
 * The real path of a model file an admin adds at run time, after checking that it is a GGUF file
 * inside one of `dirs` (symlinks resolved first, so a link cannot point out of them). `param` is
 * the request field at fault; messages never repeat the path sent.
 */
export async function checkedModelFile(path: string, dirs: readonly string[], param: string): Promise<string> {
  if (dirs.length === 0) throw new InvalidRequestError("adding models at run time is off: engine.model_paths is empty", { param, code: "invalid_value" });
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new InvalidRequestError(`${param} names no readable file`, { param, code: "invalid_value" });
  }
  const roots = dirs.flatMap((dir) => {
    try {
      return [realpathSync(dir)];
    } catch {
      return [];
    }
  });
  if (!roots.some((root) => isInside(real, root)))
    throw new InvalidRequestError(`${param} is not inside engine.model_paths (${dirs.join(", ")})`, { param, code: "invalid_value" });
  if (!statSync(real).isFile()) throw new InvalidRequestError(`${param} is not a regular file`, { param, code: "invalid_value" });
  try {
    await readGgufHeader(real);
  } catch {
    throw new InvalidRequestError(`${param} is not a GGUF file (its header does not parse)`, { param, code: "invalid_value" });
  }
  return real;
}

/** engine.model_paths as absolute directories: relative ones count from the config file's directory. */
export function modelDirs(modelPaths: readonly string[], configFile: string | null): string[] {
  const base = configFile != null ? dirname(configFile) : process.cwd();
  return modelPaths.map((dir) => resolve(base, dir));
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
