import { ConfigError, formatProblem } from "../config/config-error";
import { loadConfig } from "../config/load";
import { settings } from "../config/settings";
import { checkModelFiles, type ModelFileFacts } from "../models/check-model-files";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { parseCommandLine } from "./parse-command-line";

const spec = defineCommand({
  name: "config",
  description: "the configuration: validate it, or list every setting",
  actions: {
    check: { synopsis: "check", description: "validate; print every problem with file, key, expected and got; exit 1 on any" },
    print: { synopsis: "print", description: "every setting: value, default, description and its ENCLAVE_* variable (secrets only as set or unset)" },
  },
  options: { config: commonOptions.config, json: { ...commonOptions.json, actions: ["check", "print"] } },
});

/** `enclave config check|print [--config PATH] [--json]` */
export async function configCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(spec, args);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (action !== "check" && action !== "print") {
    console.error(`enclave config: ${action == null ? "missing action" : `unknown action '${action}'`} (check or print); see 'enclave config --help'`);
    return 2;
  }
  let loaded;
  try {
    loaded = loadConfig({ path: values.config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`config has ${error.problems.length} problem(s):`);
    for (const problem of error.problems) console.error(`  ${formatProblem(problem)}`);
    return 1;
  }
  const source = loaded.file ?? "built-in defaults (no config file found)";
  if (action === "check") {
    // The schema cannot see the files a config names: a missing model or a draft of another vocabulary passed here and failed only at the first request.
    const files = await checkModelFiles(loaded.config.models, loaded.file ?? "(built-in defaults)");
    if (values.json) {
      console.log(JSON.stringify({ file: loaded.file, ok: files.problems.length === 0, models: files.models, problems: files.problems }, null, 2));
      return files.problems.length === 0 ? 0 : 1;
    }
    for (const model of files.models) {
      console.log(`model ${model.id}: ${model.path}: ${describeFile(model.header)}`);
      if (model.draft != null)
        console.log(`  draft ${model.draft.path}: ${describeFile(model.draft.header)}${model.draft.vocabMatches ? "; vocabulary matches the target's" : ""}`);
    }
    if (files.models.length === 0) console.log("no [[models]] configured: serve forges and serves the demo pair");
    if (files.problems.length > 0) {
      console.error(`config has ${files.problems.length} problem(s):`);
      for (const problem of files.problems) console.error(`  ${formatProblem(problem)}`);
      return 1;
    }
    console.log(`config ok: ${source}`);
    return 0;
  }
  const rows = settings.map((setting) => ({
    key: setting.path.join("."),
    value: setting.secret ? redacted(valueAt(loaded.config, setting.path)) : valueAt(loaded.config, setting.path),
    default: setting.defaultValue ?? null,
    description: setting.description,
    env: setting.env,
  }));
  if (values.json) {
    console.log(JSON.stringify({ file: loaded.file, settings: rows }, null, 2));
    return 0;
  }
  console.log(`# ${source}`);
  for (const row of rows) {
    console.log(`${row.key} = ${format(row.value)}`);
    console.log(`    default ${format(row.default)}; env ${row.env ?? "(none: set in the file)"}`);
    console.log(`    ${row.description}`);
  }
  return 0;
}

function describeFile(header: ModelFileFacts | null): string {
  if (header == null) return "unreadable (see below)";
  const context = header.contextLength == null ? "context length not stated" : `trained context ${header.contextLength}`;
  return `${header.architecture}, ${context}, ${header.vocabSize} tokens (${header.tokenizer} vocabulary ${header.vocabHash})`;
}

/** A credential is printed only as whether it is set: config print output ends up in tickets and chats. */
function redacted(value: unknown): string {
  return value === "" || value == null ? "" : "(set)";
}

function valueAt(config: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config) ?? null;
}

function format(value: unknown): string {
  return value == null ? "(unset)" : JSON.stringify(value);
}
