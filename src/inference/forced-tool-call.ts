import type { ToolCall } from "./types";

/** toolChoice forces a call: to one named tool, or to any of them (the model writes `{"name": …, "arguments": …}`). */
export type ForcedTool = { kind: "one"; name: string } | { kind: "any" };

// The grammar writes `name` before `arguments`, so a cut output still starts with both keys once the name is out.
const ANY_TOOL_PREFIX = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments"\s*:\s*/;

/**
 * The call a forced generation wrote. `complete` false: max_tokens cut it, so the arguments are the
 * JSON text as far as it got (OpenAI's `finish_reason: "length"` answer); undefined when the output
 * stopped before the tool's name was whole.
 */
export function forcedToolCall(forced: ForcedTool, output: string, complete: boolean, id: string): ToolCall | undefined {
  if (complete) {
    const parsed = JSON.parse(output) as Record<string, unknown>;
    if (forced.kind === "one") return { id, name: forced.name, arguments: JSON.stringify(parsed) };
    return { id, name: String(parsed.name), arguments: JSON.stringify(parsed.arguments ?? {}) };
  }
  if (forced.kind === "one") return { id, name: forced.name, arguments: output.trimStart() };
  const prefix = ANY_TOOL_PREFIX.exec(output);
  if (prefix == null) return undefined;
  return { id, name: JSON.parse(prefix[1]!) as string, arguments: output.slice(prefix[0].length) };
}
