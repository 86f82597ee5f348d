import { z } from "zod";
import { functionName, metadata, model, REQUEST_LIMITS as L } from "../openai/model";

/**
 * The Responses API request body (`POST /v1/responses`) as one zod schema: validator and, via
 * `z.infer`, type. Unknown fields are stripped, as OpenAI ignores them; optional parameters accept
 * `null` as "not set". Custom messages name the rule, never the value the client sent.
 */

/** Marks a refusal as "valid, but this server does not do it" (code `unsupported_value`). */
const unsupported = { params: { code: "unsupported_value" } } as const;

const PART_UNSUPPORTED: Record<string, string> = {
  input_image: "image input is not supported: the served models are text-only",
  input_audio: "audio input is not supported: the served models are text-only",
  input_file: "file input is not supported; send the text as an input_text part",
};

/** A content part of an input message, as its text: input_text, output_text (assistant turns) or refusal. */
const contentPart = z.looseObject({ type: z.string() }).transform((part, ctx) => {
  const field = part.type === "refusal" ? "refusal" : part.type === "input_text" || part.type === "output_text" ? "text" : null;
  if (field == null) {
    const message = PART_UNSUPPORTED[part.type] ?? "unsupported content part type; expected 'input_text'";
    ctx.issues.push({ code: "custom", ...unsupported, input: part, path: ["type"], message });
    return z.NEVER;
  }
  const text = part[field];
  if (typeof text !== "string") {
    ctx.issues.push({ code: "invalid_type", expected: "string", input: text, path: [field], message: "" });
    return z.NEVER;
  }
  if (text.length > L.contentChars) {
    ctx.issues.push({ code: "too_big", origin: "string", maximum: L.contentChars, inclusive: true, input: "", path: [field], message: "" });
    return z.NEVER;
  }
  return text;
});

/** string | content parts, as one string; parts are joined with a newline so words never fuse. */
const content = z.union([z.string().max(L.contentChars), z.array(contentPart).max(L.contentParts).transform((parts) => parts.join("\n"))]);

const callId = z.string().min(1).max(L.idChars);
const itemStatus = z.enum(["in_progress", "completed", "incomplete"]).nullish();

const messageItem = z.object({
  type: z.literal("message"),
  role: z.enum(["user", "system", "developer", "assistant"]),
  content,
  id: z.string().max(L.idChars).nullish(),
  status: itemStatus,
});

const functionCallItem = z.object({
  type: z.literal("function_call"),
  call_id: callId,
  name: z.string().max(L.idChars),
  arguments: z.string().max(L.argumentsChars),
  id: z.string().max(L.idChars).nullish(),
  status: itemStatus,
});

const functionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: callId,
  output: content,
  id: z.string().max(L.idChars).nullish(),
  status: itemStatus,
});

/**
 * A reasoning item of an earlier answer, as SDKs pass `response.output` back into `input`:
 * accepted and dropped, as the served models do not see earlier thoughts.
 */
const reasoningItem = z.object({
  type: z.literal("reasoning"),
  id: z.string().max(L.idChars).nullish(),
  status: itemStatus,
});

/** A message written the short way (`{role, content}`) has no `type`; OpenAI reads it as a message. */
const withMessageType = (value: unknown) =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !("type" in value) && "role" in value ? { ...value, type: "message" } : value;

const inputItem = z.preprocess(withMessageType, z.discriminatedUnion("type", [messageItem, functionCallItem, functionCallOutputItem, reasoningItem]));

const input = z.union([z.string().max(L.contentChars), z.array(inputItem).min(1).max(L.messages)]);
export type ResponsesInputItem = z.infer<typeof inputItem>;

const tool = z.object({
  type: z.literal("function"),
  name: functionName,
  description: z.string().max(L.descriptionChars).nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  /** Accepted; arguments are always constrained to the schema when the engine can. */
  strict: z.boolean().nullish(),
});

const toolChoice = z.union([z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), name: z.string().max(L.idChars) })]);

const format = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: functionName,
    schema: z.record(z.string(), z.unknown()),
    description: z.string().max(L.descriptionChars).nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const ResponsesRequest = z
  .object({
    model,
    input,
    instructions: z.string().max(L.contentChars).nullish(),
    max_output_tokens: z.number().int().min(1).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    tools: z.array(tool).max(L.tools).nullish(),
    tool_choice: toolChoice.nullish(),
    /** Accepted and echoed; the engine decides how many calls one turn makes. */
    parallel_tool_calls: z.boolean().nullish(),
    text: z.object({ format: format.nullish() }).nullish(),
    metadata: metadata.nullish(),
    /** Accepted and echoed, never stored. */
    user: z.string().max(L.userChars).nullish(),
    /** OpenAI's default is true; whether anything is kept is the retention policy's decision. */
    store: z.boolean().nullish(),
    previous_response_id: z.string().max(L.idChars).nullish(),
    stream: z.boolean().nullish(),
  })
  .superRefine((body, ctx) => {
    const tools = body.tools ?? [];
    const choice = body.tool_choice;
    if (tools.length === 0 && (choice === "required" || typeof choice === "object")) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice requires tools" });
    } else if (typeof choice === "object" && choice && !tools.some((t) => t.name === choice.name)) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice names a function that is not in tools" });
    }
  });
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

/** GET /v1/responses/{id}/input_items: OpenAI's cursor paging, newest first by default. */
export const InputItemsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
  /** The item id the page starts after, in the chosen order. */
  after: z.string().max(L.idChars).optional(),
  /** Accepted and ignored: input items have no optional parts to include. */
  include: z.union([z.string().max(L.idChars), z.array(z.string().max(L.idChars)).max(16)]).optional(),
});
export type InputItemsQuery = z.infer<typeof InputItemsQuery>;
