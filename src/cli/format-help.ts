import type { CommandSpec } from "./command-spec";

/** `--help` text of a command, or of one of its actions, generated from its spec. */
export function formatHelp(spec: CommandSpec, action?: string): string {
  const only = action != null && spec.actions?.[action] != null ? action : undefined;
  const actions = Object.entries(spec.actions ?? {}).filter(([name]) => only == null || name === only);
  const lines: string[] = [];
  if (actions.length === 0) lines.push(`usage: enclave ${spec.name}${spec.synopsis ? ` ${spec.synopsis}` : ""} [options]`, `  ${spec.description}`);
  else {
    lines.push(only != null ? `usage: enclave ${spec.name} ${spec.actions![only]!.synopsis} [options]` : `usage: enclave ${spec.name} <action> [options]`);
    lines.push(`  ${only != null ? spec.actions![only]!.description : spec.description}`);
    if (only == null) {
      lines.push("", "actions:");
      const width = Math.max(...actions.map(([, spec]) => spec.synopsis.length));
      for (const [, each] of actions) lines.push(`  ${each.synopsis.padEnd(width)}  ${each.description}`);
    }
  }
  const options = Object.entries(spec.options)
    .filter(([, option]) => only == null || option.actions == null || option.actions.includes(only))
    .map(([name, option]) => {
      const flag = `--${name}${option.value ? ` ${option.value}` : ""}`;
      const scope = only == null && option.actions != null ? ` (${option.actions.join(", ")})` : "";
      return [flag, `${option.description}${option.default != null ? ` (default ${option.default})` : ""}${scope}`] as const;
    });
  options.push(["-h, --help", "print this help"]);
  const width = Math.max(...options.map(([flag]) => flag.length));
  lines.push("", "options:", ...options.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`));
  if (spec.notes?.length) lines.push("", ...spec.notes);
  return lines.join("\n");
}
