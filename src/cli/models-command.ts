import { resolve } from "node:path";
import { adminClientKey } from "../config/admin-client-env";
import { loadConfig } from "../config/load";
import type { Config } from "../config/schema";
import { readGgufHeader } from "../forge/read-gguf-header";
import { ggufSummary } from "../models/gguf-summary";
import { defineCommand } from "./command-spec";
import { commonOptions } from "./common-options";
import { numberFlag, printTable } from "./local-admin";
import { type parseOptions, UsageError } from "./parse-options";
import { runCommand } from "./run-command";

const spec = defineCommand({
  name: "models",
  description: "the running server's models, through its admin API (the admin key in ENCLAVE_KEY); inspect reads a GGUF file and needs no server",
  actions: {
    list: { synopsis: "list", description: "every model with its state, sequences and queue" },
    add: { synopsis: "add --id ID --path FILE", description: "serve a local GGUF file inside [engine] model_paths" },
    load: { synopsis: "load ID", description: "load a model now" },
    unload: { synopsis: "unload ID", description: "unload a model once its in-flight requests finish" },
    remove: { synopsis: "remove ID", description: "stop serving a model once its in-flight requests finish" },
    inspect: { synopsis: "inspect FILE", description: "a GGUF header: architecture, context length, vocabulary size and hash" },
  },
  positionals: true,
  options: {
    config: commonOptions.config,
    url: { type: "string", value: "URL", description: "the server's URL; default: where the config's [server] listens", actions: ["list", "add", "load", "unload", "remove"] },
    json: { ...commonOptions.json, actions: ["list", "add", "inspect"] },
    persist: { type: "boolean", description: "also write the change into the server's config file", actions: ["add", "remove"] },
    id: { type: "string", value: "ID", description: "the model's id", actions: ["add"] },
    path: { type: "string", value: "FILE", description: "the GGUF file", actions: ["add"] },
    draft: { type: "string", value: "FILE", description: "a draft model's GGUF file, for speculative decoding", actions: ["add"] },
    "context-size": { type: "string", value: "N", description: "context tokens", actions: ["add"] },
    parallel: { type: "string", value: "N", description: "sequences", actions: ["add"] },
    "keep-alive-seconds": { type: "string", value: "N", description: "unload after this long idle", actions: ["add"] },
  },
});

const COLUMNS = ["id", "state", "default", "context_size", "parallel", "busy_sequences", "queue_depth", "speculative", "path"];

/** `enclave models ...`: the running server's models through its admin API; `inspect` reads a file's GGUF header. */
export async function modelsCommand(args: string[]): Promise<number> {
  return runCommand(spec, args, (parsed) =>
    run(parsed).catch((error: unknown) => {
      if (!(error instanceof ServerCallFailed)) throw error;
      console.error(`enclave: ${error.message}`);
      return 1;
    }),
  );
}

async function run({ values, positionals }: ReturnType<typeof parseOptions<typeof spec.options>>): Promise<number> {
  {
    const [sub, target, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const needsTarget = (what: string) => {
      if (target == null) throw new UsageError(`models ${sub} needs ${what}`);
      return target;
    };

    if (sub === "inspect") {
      const file = resolve(needsTarget("a GGUF file"));
      let summary;
      try {
        summary = ggufSummary(await readGgufHeader(file));
      } catch {
        console.error(`enclave: ${file} is not a readable GGUF file (its header does not parse)`);
        return 1;
      }
      if (values.json) console.log(JSON.stringify({ path: file, ...summary }, null, 2));
      else for (const [key, value] of Object.entries({ path: file, ...summary })) console.log(`${`${key}:`.padEnd(18)}${value ?? "-"}`);
      return 0;
    }

    const server = adminServer(values.url, values.config);
    switch (sub) {
      case "list": {
        const { data } = (await server.call("GET", "/admin/models")) as { data: Record<string, unknown>[] };
        if (values.json) console.log(JSON.stringify(data, null, 2));
        else printTable(data, COLUMNS);
        return 0;
      }
      case "add": {
        if (values.id == null || values.path == null) throw new UsageError("models add needs --id ID and --path FILE");
        const body = {
          id: values.id,
          // The server checks the file; an absolute path means the same there as here.
          path: resolve(values.path),
          ...(values.draft != null && { draft: { path: resolve(values.draft) } }),
          ...optionalNumber("context_size", numberFlag("context-size", values["context-size"])),
          ...optionalNumber("parallel", numberFlag("parallel", values.parallel)),
          ...optionalNumber("keep_alive_seconds", numberFlag("keep-alive-seconds", values["keep-alive-seconds"])),
          persist: values.persist ?? false,
        };
        const added = (await server.call("POST", "/admin/models", body)) as Record<string, unknown>;
        if (values.json) console.log(JSON.stringify(added, null, 2));
        else console.log(`added model '${String(added.id)}' (${String(added.state)})${values.persist ? "; written to the config file" : "; until the next restart or reload (--persist keeps it)"}`);
        return 0;
      }
      case "load":
      case "unload": {
        const id = needsTarget("a model id");
        const model = (await server.call("POST", `/admin/models/${encodeURIComponent(id)}/${sub}`)) as Record<string, unknown>;
        console.log(sub === "load" ? `model '${id}' is ${String(model.state)}` : `model '${id}' unloads once its in-flight requests finish`);
        return 0;
      }
      case "remove": {
        const id = needsTarget("a model id");
        await server.call("DELETE", `/admin/models/${encodeURIComponent(id)}`, { persist: values.persist ?? false });
        console.log(`model '${id}' removed${values.persist ? " and taken out of the config file" : ""}; its in-flight requests finish first`);
        return 0;
      }
      default:
        throw new UsageError(sub == null ? "missing subcommand" : `unknown subcommand '${sub}'`);
    }
  }
}

function optionalNumber(key: string, value: number | null | undefined): Record<string, number> {
  return value == null ? {} : { [key]: value };
}

/** A server that cannot be reached or refused the call: one line and exit 1, never a stack. */
class ServerCallFailed extends Error {}

/** The running server's admin API: its URL from --url or the config's [server], the key from ENCLAVE_KEY. */
function adminServer(url: string | undefined, configPath: string | undefined) {
  const base = url ?? serverUrl(loadConfig({ path: configPath }).config);
  const key = adminClientKey();
  return {
    async call(method: string, path: string, body?: unknown): Promise<unknown> {
      if (key == null) throw new UsageError("set ENCLAVE_KEY to an admin key (create one with `enclave keys create --role admin --name NAME`)");
      let response: Response;
      try {
        response = await fetch(new URL(path, base), {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
      } catch {
        throw new ServerCallFailed(`no Enclave server answers at ${base}; start one with \`enclave serve\` or pass --url`);
      }
      const answer = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      if (!response.ok) throw new ServerCallFailed(answer?.error?.message ?? `the server answered ${response.status}`);
      return answer;
    },
  };
}

/** Where the config's server listens, as this machine reaches it (a wildcard address is reached on loopback). */
function serverUrl(config: Readonly<Config>): string {
  const { host, port, tls } = config.server;
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `${tls ? "https" : "http"}://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}
