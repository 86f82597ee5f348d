import { randomBytes, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api } from "../auth/harness";

/** A unique marker per placement, so a hit says exactly which part of a request leaked. */
export function canaries() {
  const run = randomUUID().replaceAll("-", "").slice(0, 12);
  const make = (where: string) => `cnry${where}${run}${randomBytes(4).toString("hex")}`;
  return {
    system: make("SYS"),
    user: make("USR"),
    assistant: make("AST"),
    toolArgs: make("TARG"),
    toolResult: make("TRES"),
    toolSchema: make("TSCH"),
    jsonSchema: make("JSCH"),
    prompt: make("PRM"),
    embedding: make("EMB"),
    invalid: make("INV"),
    malformed: make("BAD"),
    overflow: make("OVF"),
    abort: make("ABT"),
    engine: make("ENG"),
    large: make("BIG"),
  };
}
export type Canaries = ReturnType<typeof canaries>;

/** Every file under `dir` (recursively), as raw bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    try {
      out.push({ path, bytes: readFileSync(path) });
    } catch {
      // Removed between listing and reading (another test's temp file): nothing to scan.
    }
  }
  return out;
}

/** Temp dir entries that did not exist at `before` (a snapshot of names), with their files. */
export function tempSnapshot(): Set<string> {
  return new Set(readdirSync(tmpdir()));
}
export function newTempFiles(before: Set<string>): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (before.has(name)) continue;
    const path = join(tmpdir(), name);
    try {
      if (statSync(path).isDirectory()) out.push(...filesUnder(path));
      else out.push({ path, bytes: readFileSync(path) });
    } catch {
      // Gone already.
    }
  }
  return out;
}

/** Where each needle occurs: "file: needle" lines (empty when nowhere). */
export function occurrences(haystacks: { path: string; bytes: Buffer }[], needles: string[]): string[] {
  const hits: string[] = [];
  for (const { path, bytes } of haystacks)
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle, "utf8")) || bytes.includes(Buffer.from(needle, "utf16le"))) hits.push(`${path}: ${needle}`);
    }
  return hits;
}

/** Captures everything written to console and process stdout/stderr while `body` runs (and still passes it through). */
export async function captureOutput<T>(body: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const record = (value: unknown) => chunks.push(typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : String(value));
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const consoleMethods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const originals = consoleMethods.map((name) => console[name]);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => (record(chunk), stdoutWrite(chunk as string, ...(rest as [])))) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => (record(chunk), stderrWrite(chunk as string, ...(rest as [])))) as typeof process.stderr.write;
  consoleMethods.forEach((name, index) => {
    console[name] = (...args: unknown[]) => {
      chunks.push(args.map((arg) => (typeof arg === "string" ? arg : Bun.inspect(arg))).join(" "));
      (originals[index] as (...a: unknown[]) => void)(...args);
    };
  });
  try {
    const result = await body();
    return { result, output: chunks.join("\n") };
  } finally {
    process.stdout.write = stdoutWrite as typeof process.stdout.write;
    process.stderr.write = stderrWrite as typeof process.stderr.write;
    consoleMethods.forEach((name, index) => {
      console[name] = originals[index] as never;
    });
  }
}

export interface ExchangeResult {
  name: string;
  status: number;
  body: string;
}

/**
 * Drives every /v1 endpoint, stream and non-stream, success and each failure path, with canaries
 * in system/user/assistant messages, tool-call arguments, tool results, schemas (whose consts the
 * fake echoes into completions and tool arguments), prompts and embedding inputs.
 */
export async function driveEveryEndpoint(app: { handle(request: Request): Promise<Response> }, secret: string, c: Canaries): Promise<ExchangeResult[]> {
  const results: ExchangeResult[] = [];
  const send = async (name: string, path: string, json: unknown) => {
    const response = await app.handle(api(path, secret, { method: "POST", json }));
    results.push({ name, status: response.status, body: await response.text() });
  };
  const tool = {
    type: "function",
    function: { name: "lookup", description: "look something up", parameters: { type: "object", properties: { q: { const: c.toolSchema } }, required: ["q"] } },
  };
  const conversation = [
    { role: "system", content: `You are helpful. ${c.system}` },
    { role: "user", content: `first question ${c.user} 1 2 3` },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: JSON.stringify({ q: c.toolArgs }) } }] },
    { role: "tool", tool_call_id: "call_1", content: `result ${c.toolResult}` },
    { role: "assistant", content: `answer ${c.assistant}` },
    { role: "user", content: `and then ${c.user} 7` },
  ];
  const chat = (extra: Record<string, unknown> = {}) => ({ model: "fake", messages: conversation, ...extra });
  const jsonFormat = { type: "json_schema", json_schema: { name: "out", schema: { type: "object", properties: { v: { const: c.jsonSchema } }, required: ["v"] } } };
  const responsesTool = { type: "function", name: "lookup", description: tool.function.description, parameters: tool.function.parameters };
  const responsesFormat = { type: "json_schema", name: "out", schema: jsonFormat.json_schema.schema };
  const responses = (extra: Record<string, unknown> = {}) => ({
    model: "fake",
    store: true,
    instructions: `You are helpful. ${c.system}`,
    input: [
      { role: "user", content: [{ type: "input_text", text: `first question ${c.user} 1 2 3` }] },
      { type: "function_call", call_id: "call_1", name: "lookup", arguments: JSON.stringify({ q: c.toolArgs }) },
      { type: "function_call_output", call_id: "call_1", output: `result ${c.toolResult}` },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: `answer ${c.assistant}` }] },
      { role: "user", content: `and then ${c.user} 7` },
    ],
    ...extra,
  });

  for (const stream of [false, true]) {
    const tag = stream ? "stream" : "json";
    await send(`chat ${tag}`, "/v1/chat/completions", chat({ stream, tools: [tool] }));
    await send(`chat tool call ${tag}`, "/v1/chat/completions", chat({ stream, tools: [tool], tool_choice: "required" }));
    await send(`chat json_schema ${tag}`, "/v1/chat/completions", chat({ stream, response_format: jsonFormat }));
    await send(`completion ${tag}`, "/v1/completions", { model: "fake", prompt: `${c.prompt} 1 2`, stream });
    // Failure paths.
    await send(`unknown model ${tag}`, "/v1/chat/completions", chat({ stream, model: "no-such-model" }));
    await send(`context overflow ${tag}`, "/v1/chat/completions", {
      model: "tiny",
      stream,
      messages: [{ role: "system", content: c.system }, { role: "user", content: `${c.overflow} ${"word ".repeat(80)}` }],
    });
    await send(`context overflow completion ${tag}`, "/v1/completions", { model: "tiny", stream, prompt: `${c.overflow} ${"word ".repeat(80)}` });
    await send(`engine error at admission ${tag}`, "/v1/chat/completions", chat({ stream, model: "broken-admit", messages: [{ role: "user", content: `${c.engine} 1` }] }));
    await send(`engine error mid-stream ${tag}`, "/v1/chat/completions", chat({ stream, model: "broken-stream", messages: [{ role: "user", content: `${c.engine} 1` }] }));
    await send(`engine error mid-stream completion ${tag}`, "/v1/completions", { model: "broken-stream", stream, prompt: `${c.engine} 1` });
    await send(`validation error ${tag}`, "/v1/chat/completions", chat({ stream, temperature: c.invalid }));
    await send(`validation error in a message ${tag}`, "/v1/chat/completions", { model: "fake", stream, messages: [{ role: "wizard", content: c.invalid }] });
    await send(`tool_choice naming an absent tool ${tag}`, "/v1/chat/completions", chat({ stream, tools: [tool], tool_choice: { type: "function", function: { name: "absent" } } }));
    // The Responses API, over the same conversation as items; `store: true` asks OpenAI's default of keeping it.
    await send(`responses ${tag}`, "/v1/responses", responses({ stream, tools: [responsesTool] }));
    await send(`responses tool call ${tag}`, "/v1/responses", responses({ stream, tools: [responsesTool], tool_choice: "required" }));
    await send(`responses json_schema ${tag}`, "/v1/responses", responses({ stream, text: { format: responsesFormat } }));
    await send(`responses unknown model ${tag}`, "/v1/responses", responses({ stream, model: "no-such-model" }));
    await send(`responses context overflow ${tag}`, "/v1/responses", { model: "tiny", stream, store: true, instructions: c.system, input: `${c.overflow} ${"word ".repeat(80)}` });
    await send(`responses engine error mid-stream ${tag}`, "/v1/responses", { model: "broken-stream", stream, store: true, input: `${c.engine} 1` });
    await send(`responses validation error ${tag}`, "/v1/responses", responses({ stream, temperature: c.invalid }));
    await send(`responses validation error in an item ${tag}`, "/v1/responses", { model: "fake", stream, input: [{ type: "wizard", content: c.invalid }] });
    await send(`responses previous_response_id ${tag}`, "/v1/responses", responses({ stream, previous_response_id: `resp_${c.invalid}` }));
  }
  for (const method of ["GET", "DELETE"]) {
    const response = await app.handle(api(`/v1/responses/resp_${c.invalid}`, secret, { method }));
    results.push({ name: `responses ${method} by id`, status: response.status, body: await response.text() });
  }
  // The Anthropic Messages surface: the same conversation, tools and failure paths in its shapes.
  const anthropicTool = { name: "lookup", description: "look something up", input_schema: tool.function.parameters };
  const anthropicConversation = [
    { role: "user", content: `first question ${c.user} 1 2 3` },
    { role: "assistant", content: [{ type: "text", text: `let me look ${c.assistant}` }, { type: "tool_use", id: "toolu_1", name: "lookup", input: { q: c.toolArgs } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: `result ${c.toolResult}` }] }, { type: "text", text: `and then ${c.user} 7` }] },
  ];
  const messages = (extra: Record<string, unknown> = {}) => ({ model: "fake", max_tokens: 32, system: [{ type: "text", text: `You are helpful. ${c.system}` }], messages: anthropicConversation, ...extra });
  for (const stream of [false, true]) {
    const tag = stream ? "stream" : "json";
    await send(`messages ${tag}`, "/v1/messages", messages({ stream, tools: [anthropicTool] }));
    await send(`messages tool_use ${tag}`, "/v1/messages", messages({ stream, tools: [anthropicTool], tool_choice: { type: "any" } }));
    await send(`messages unknown model ${tag}`, "/v1/messages", messages({ stream, model: "no-such-model" }));
    await send(`messages context overflow ${tag}`, "/v1/messages", { model: "tiny", max_tokens: 8, stream, system: c.system, messages: [{ role: "user", content: `${c.overflow} ${"word ".repeat(80)}` }] });
    await send(`messages engine error mid-stream ${tag}`, "/v1/messages", messages({ stream, model: "broken-stream", messages: [{ role: "user", content: `${c.engine} 1` }] }));
    await send(`messages validation error ${tag}`, "/v1/messages", messages({ stream, temperature: c.invalid }));
    await send(`messages image block ${tag}`, "/v1/messages", messages({ stream, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: c.invalid } }] }] }));
  }
  await send("count_tokens", "/v1/messages/count_tokens", { model: "fake", system: c.system, messages: anthropicConversation, tools: [anthropicTool] });
  await send("count_tokens validation error", "/v1/messages/count_tokens", { model: "fake", messages: [{ role: "wizard", content: c.invalid }] });

  await send("embeddings", "/v1/embeddings", { model: "fake", input: [c.embedding, `${c.embedding} again`] });
  await send("embeddings validation error", "/v1/embeddings", { model: "fake", input: [c.embedding, ""] });
  await send("embeddings unknown model", "/v1/embeddings", { model: "no-such-model", input: c.embedding });

  // Malformed JSON quoting the canary.
  const malformed = await app.handle(
    new Request("http://localhost/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: `{"model":"fake","messages":[{"role":"user","content":"${c.malformed}"}`,
    }),
  );
  results.push({ name: "malformed JSON", status: malformed.status, body: await malformed.text() });

  // A body over the limit.
  const largeBody = JSON.stringify(chat({ messages: [{ role: "user", content: `${c.large} ${"x".repeat(80 * 1024)}` }] }));
  const large = await app.handle(
    api("/v1/chat/completions", secret, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(largeBody)) },
      body: largeBody,
    }),
  );
  results.push({ name: "body too large", status: large.status, body: await large.text() });

  // The client goes away mid-stream, for chat, completions and responses.
  for (const [path, json] of [
    ["/v1/chat/completions", { model: "slow", stream: true, messages: [{ role: "system", content: c.system }, { role: "user", content: `${c.abort} 1` }] }],
    ["/v1/completions", { model: "slow", stream: true, prompt: `${c.abort} 1` }],
    ["/v1/responses", { model: "slow", stream: true, store: true, instructions: c.system, input: `${c.abort} 1` }],
  ] as const) {
    const controller = new AbortController();
    const response = await app.handle(api(path, secret, { method: "POST", json, signal: controller.signal }));
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel();
    results.push({ name: `client abort ${path}`, status: response.status, body: "" });
  }
  await Bun.sleep(50);
  return results;
}
