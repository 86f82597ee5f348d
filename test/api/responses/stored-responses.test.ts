import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import OpenAI from "openai";
import { guardedApp } from "../auth/harness";
import { recordingEngine } from "../openai/harness";

const DAY = 86_400_000;
const settled = <T>(call: PromiseLike<T>) => (async () => await call)();

let clock = Date.parse("2030-03-01T12:00:00Z");
let recorded: ReturnType<typeof recordingEngine> | undefined;
const h = await guardedApp({ now: () => clock, engine: (local) => (recorded = recordingEngine(local)).engine, config: { retention: { payloads: "full", payload_key: randomBytes(32).toString("hex"), payload_days: 30 } } });

/**
 * Where payload retention is "full" for the account, `store` keeps a response in the encrypted
 * payload store: chained with previous_response_id, fetched, listed and deleted through the
 * official SDK, scoped to the caller's account and purged with the other payloads.
 */
describe("stored responses where retention is on", () => {
  const clientFor = (apiKey: string) => new OpenAI({ apiKey, baseURL: "http://localhost/v1", maxRetries: 0, fetch: (url, init) => h.app.handle(new Request(url, init)) });
  let client: OpenAI;
  let stranger: OpenAI;

  beforeAll(async () => {
    client = clientFor((await h.keys.create(h.cli, { name: "owner", account_id: h.root.id })).secret);
    const other = await h.accounts.create(h.cli, { name: "other team" });
    stranger = clientFor((await h.keys.create(h.cli, { name: "stranger", account_id: other.id })).secret);
  });
  afterAll(() => h[Symbol.dispose]());

  const storeFlag = (response: unknown) => (response as { store: boolean }).store;
  const responseRows = () => (h.store.sqlite.query("select count(*) as n from retained_payloads where kind = 'response'").get() as { n: number }).n;

  test("Should store, fetch and list a response's input items - encrypted, for the owner's account only", async () => {
    const created = await client.responses.create({ model: "fake", instructions: "be brief", input: [{ role: "user", content: "count 1 2" }], max_output_tokens: 2 });
    expect(storeFlag(created)).toBe(true);
    expect(created.output_text).toBe(" 3 4");
    const fetched = await client.responses.retrieve(created.id);
    expect(fetched.id).toBe(created.id);
    expect(fetched.output_text).toBe(" 3 4");
    expect(fetched.usage).toEqual(created.usage);
    const items = [];
    for await (const item of client.responses.inputItems.list(created.id, { order: "asc" })) items.push(item);
    expect(items).toMatchObject([{ type: "message", role: "user", content: [{ type: "input_text", text: "count 1 2" }] }]);
    // Another account's key cannot see it.
    await expect(settled(stranger.responses.retrieve(created.id))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // Only ciphertext in the file.
    const raw = h.store.sqlite.query("select ciphertext from retained_payloads where kind = 'response'").all() as { ciphertext: Uint8Array }[];
    expect(raw.some((row) => Buffer.from(row.ciphertext).includes(Buffer.from("count 1 2")))).toBe(false);
  });

  test("Should page a response's input items with limit and after - the SDK's auto-pagination walks every page", async () => {
    const input = [1, 2, 3, 4, 5].map((i) => ({ role: "user" as const, content: `turn ${i}` }));
    const created = await client.responses.create({ model: "fake", input, max_output_tokens: 1 });
    const page = await client.responses.inputItems.list(created.id, { limit: 2, order: "asc" });
    expect(page.data.map((item: any) => item.content[0].text)).toEqual(["turn 1", "turn 2"]);
    expect(page.has_more).toBe(true);
    const walked: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 2 })) walked.push((item as any).content[0].text);
    expect(walked).toEqual(["turn 5", "turn 4", "turn 3", "turn 2", "turn 1"]);
    const bad = await h.app.handle(new Request(`http://localhost/v1/responses/${created.id}/input_items?limit=500`, { headers: { authorization: `Bearer ${(client as any).apiKey}` } }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.param).toBe("limit");
  });

  test("Should continue a stored conversation with previous_response_id - a function call round trip, instructions not carried over", async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] }, strict: true }];
    const first = await client.responses.create({ model: "fake", instructions: "first rules", input: "use lookup", tools, tool_choice: "required" });
    const call = first.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === "function_call")!;
    const second = await client.responses.create({
      model: "fake",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "found 41" }],
      tools,
      max_output_tokens: 2,
    });
    expect(second.output_text).toBe(" 42 43");
    expect(second.previous_response_id).toBe(first.id);
    const input = recorded!.generations.at(-1)!.input;
    expect(input.kind === "chat" && input.messages).toEqual([
      { role: "user", content: "use lookup" },
      { role: "assistant", content: "", toolCalls: [{ id: call.call_id, name: "lookup", arguments: call.arguments }] },
      { role: "tool", content: "found 41", toolCallId: call.call_id },
    ]);
  });

  test("Should stream a stored response - the final event's object is what GET returns", async () => {
    const stream = await client.responses.create({ model: "fake", input: "count 8", max_output_tokens: 1, stream: true });
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) if (event.type === "response.incomplete") final = event.response;
    expect(storeFlag(final)).toBe(true);
    const fetched = await client.responses.retrieve(final!.id);
    expect(fetched.output_text).toBe(" 9");
    expect(fetched.status).toBe("incomplete");
  });

  test("Should not store a response with store: false - and refuse to chain from it", async () => {
    const before = responseRows();
    const created = await client.responses.create({ model: "fake", input: "count 1", store: false, max_output_tokens: 1 });
    expect(storeFlag(created)).toBe(false);
    expect(responseRows()).toBe(before);
    await expect(settled(client.responses.retrieve(created.id))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(settled(client.responses.create({ model: "fake", input: "x", previous_response_id: created.id }))).rejects.toMatchObject({
      status: 400,
      param: "previous_response_id",
      code: "previous_response_not_found",
    });
  });

  test("Should delete a stored response for its owner only - and then answer 404", async () => {
    const created = await client.responses.create({ model: "fake", input: "count 3", max_output_tokens: 1 });
    await expect(settled(stranger.responses.delete(created.id))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await client.responses.delete(created.id);
    await expect(settled(client.responses.retrieve(created.id))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const left = h.store.sqlite.query("select count(*) as n from retained_payloads where request_id = ?").get(created.id.slice("resp_".length)) as { n: number };
    expect(left.n).toBe(0);
  });

  test("Should be purged with the other payloads - gone after the retention window", async () => {
    const created = await client.responses.create({ model: "fake", input: "count 5", max_output_tokens: 1 });
    expect((await client.responses.retrieve(created.id)).id).toBe(created.id);
    clock += 31 * DAY;
    // Past its expiry it is not served even before the purge runs.
    await expect(settled(client.responses.retrieve(created.id))).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const purge = await h.app.handle(new Request("http://localhost/admin/retention/purge", { method: "POST", headers: { authorization: `Bearer ${h.adminSecret}` } }));
    expect(purge.status).toBe(200);
    expect(responseRows()).toBe(0);
  });
});
