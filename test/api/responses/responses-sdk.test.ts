import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { guardedApp } from "../auth/harness";

/**
 * The official `openai` SDK's `client.responses.create`, unchanged, against the guarded app in
 * process (its `fetch` goes to app.handle): keys, limits and metering apply as in production.
 */
/**
 * The SDK's APIPromise is a Promise subclass whose own state settles at once; bun's `rejects`
 * reads that state, so a call is awaited inside a plain async function first.
 */
const settled = <T>(call: PromiseLike<T>) => (async () => await call)();

const h = await guardedApp();

describe("client.responses.create over the guarded app", () => {
  let client: OpenAI;
  let keyId: string;
  const clientFor = (apiKey: string) =>
    new OpenAI({ apiKey, baseURL: "http://localhost/v1", maxRetries: 0, fetch: (url, init) => h.app.handle(new Request(url, init)) });

  beforeAll(async () => {
    const created = await h.keys.create(h.cli, { name: "sdk", account_id: h.root.id });
    keyId = created.key.id;
    client = clientFor(created.secret);
  });
  afterAll(() => h[Symbol.dispose]());

  const meterRows = () =>
    h.store.sqlite.query("select endpoint, model, prompt_tokens, completion_tokens, status from usage_events where key_id = ? order by started_at").all(keyId) as {
      endpoint: string;
      model: string | null;
      prompt_tokens: number;
      completion_tokens: number;
      status: number;
    }[];

  test("Should answer a text input and meter it as POST /v1/responses - one row with the tokens", async () => {
    const before = meterRows().length;
    const response = await client.responses.create({ model: "fake", input: "count 1 2 3", max_output_tokens: 100 });
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe(" 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19");
    expect(response.usage).toMatchObject({ input_tokens: 6, output_tokens: 16, total_tokens: 22 });
    const rows = meterRows().slice(before);
    expect(rows).toEqual([{ endpoint: "POST /v1/responses", model: "fake", prompt_tokens: 6, completion_tokens: 16, status: 200 }]);
  });

  test("Should stream through the SDK's iterator - deltas add up to the text and the last event completes", async () => {
    const stream = await client.responses.create({ model: "fake", input: "count 1 2 3", max_output_tokens: 3, stream: true });
    let text = "";
    const types: string[] = [];
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.incomplete" || event.type === "response.completed") final = event.response;
    }
    expect(text).toBe(" 4 5 6");
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.incomplete");
    expect(final?.incomplete_details).toEqual({ reason: "max_output_tokens" });
    const rows = meterRows();
    expect(rows.at(-1)).toEqual({ endpoint: "POST /v1/responses", model: "fake", prompt_tokens: 6, completion_tokens: 3, status: 200 });
  });

  test("Should stream through responses.stream() helper - finalResponse has the text", async () => {
    const stream = client.responses.stream({ model: "fake", input: "count 7", max_output_tokens: 2 });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(" 8 9");
  });

  test("Should round-trip a function call with function_call_output - the second turn sees the result", async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: "function", name: "lookup", description: "look up", parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] }, strict: true },
    ];
    const first = await client.responses.create({ model: "fake", input: "use lookup please", tools, tool_choice: "required" });
    const call = first.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", name: "lookup", arguments: '{"q":"text"}' });
    const second = await client.responses.create({
      model: "fake",
      input: [{ role: "user", content: "use lookup please" }, call!, { type: "function_call_output", call_id: call!.call_id, output: "found 41" }],
      tools,
      max_output_tokens: 2,
    });
    // The fake continues the last message: the tool's output.
    expect(second.output_text).toBe(" 42 43");
  });

  test("Should answer json_schema output that parses as the schema - text.format", async () => {
    const response = await client.responses.create({
      model: "fake",
      input: "give me json",
      text: { format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { ok: { const: true } }, required: ["ok"] }, strict: true } },
    });
    expect(JSON.parse(response.output_text)).toEqual({ ok: true });
  });

  test("Should answer store: true with store false - zero data retention by default", async () => {
    const response = await client.responses.create({ model: "fake", input: "count 1", store: true, max_output_tokens: 1 });
    // OpenAI sends `store` in the response object; the SDK types do not list it.
    expect((response as unknown as { store: boolean }).store).toBe(false);
  });

  test("Should surface errors as the SDK's typed errors - 400, 401, 404", async () => {
    const bad = settled(client.responses.create({ model: "fake", input: "x", temperature: 9 }));
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toMatchObject({ status: 400, param: "temperature" });
    const chained = settled(client.responses.create({ model: "fake", input: "x", previous_response_id: "resp_x" }));
    await expect(chained).rejects.toMatchObject({ status: 400, param: "previous_response_id", code: "storage_disabled" });
    await expect(settled(client.responses.retrieve("resp_x"))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(settled(client.responses.delete("resp_x"))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(settled(client.responses.create({ model: "no-such-model", input: "x" }))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(settled(clientFor("sk-wrong").responses.create({ model: "fake", input: "x" }))).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  test("Should refuse a model outside the key's scope - the same key scope as chat", async () => {
    const scoped = await h.keys.create(h.cli, { name: "scoped", account_id: h.root.id, models: ["other"] });
    await expect(settled(clientFor(scoped.secret).responses.create({ model: "fake", input: "x" }))).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
  });
});
