import type { ToolCall } from "./types";

/** toolChoice forces a call: to one named tool, or to any of `names` (the model writes `{"name": …, "arguments": …}`). */
export type ForcedTool = { kind: "one"; name: string } | { kind: "any"; names: string[] };

// The grammar writes `name` before `arguments`, so a cut output still starts with both keys once the name is out.
const ANY_TOOL_PREFIX = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments"\s*:\s*/;
const WHOLE_NAME = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")/;
const CUT_NAME = /^\s*\{\s*"name"\s*:\s*"([^"\\]*)$/;

/**
 * The call a forced generation wrote. `complete` false: max_tokens cut it, so the arguments are the
 * JSON text as far as it got (OpenAI's `finish_reason: "length"` answer). A name cut short still
 * names its tool when only one tool's name starts so (the arguments are then empty); undefined
 * when the output does not tell which tool it was calling.
 */
export function forcedToolCall(forced: ForcedTool, output: string, complete: boolean, id: string): ToolCall | undefined {
  if (complete) {
    const parsed = JSON.parse(output) as Record<string, unknown>;
    if (forced.kind === "one") return { id, name: forced.name, arguments: JSON.stringify(parsed) };
    return { id, name: String(parsed.name), arguments: JSON.stringify(parsed.arguments ?? {}) };
  }
  if (forced.kind === "one") return { id, name: forced.name, arguments: output.trimStart() };
  const prefix = ANY_TOOL_PREFIX.exec(output);
  if (prefix != null) return { id, name: JSON.parse(prefix[1]!) as string, arguments: output.slice(prefix[0].length) };
  const named = WHOLE_NAME.exec(output);
  if (named != null) return { id, name: JSON.parse(named[1]!) as string, arguments: "" };
  const cutName = CUT_NAME.exec(output)?.[1];
  if (cutName == null) return undefined;
  const candidates = forced.names.filter((name) => name.startsWith(cutName));
  return candidates.length === 1 ? { id, name: candidates[0]!, arguments: "" } : undefined;
}
