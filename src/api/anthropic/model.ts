import { z } from "zod";
import { REQUEST_LIMITS as L } from "../openai/model";

/**
 * The Anthropic Messages request bodies this server accepts, as zod schemas (validator and type
 * in one). Unknown fields are stripped, as Anthropic's API tolerates new ones from newer SDKs.
 * Limits are the OpenAI layer's, so both surfaces bound a request the same way. Custom messages
 * name the rule, never the value the client sent.
 */

const unsupported = { params: { code: "unsupported_value" } } as const;

const BLOCK_UNSUPPORTED: Record<string, string> = {
  image: "image content blocks are not supported: the served models are text-only (no vision)",
  document: "document content blocks are not supported; send the text as a text block",
  search_result: "search_result content blocks are not supported; send the text as a text block",
};

/**
 * Blocks by their `type`: one this server cannot serve is refused with a 400 that says why (at the
 * block's `type`) before its shape is checked; an unknown tag is refused by the union.
 */
function blocks<T extends z.ZodType>(known: T) {
  const tagged = z.looseObject({ type: z.string() }).superRefine((block, ctx) => {
    const reason = BLOCK_UNSUPPORTED[block.type];
    if (reason != null) ctx.addIssue({ code: "custom", ...unsupported, path: ["type"], message: reason });
  });
  // The tag check's output is the block itself, which `known` then parses as any input.
  return z.array(tagged.pipe(known as z.ZodType<z.output<T>, any>) as z.ZodType<z.output<T>>).max(L.contentParts);
}

const text = z.string().max(L.contentChars);
const textBlock = z.object({ type: z.literal("text"), text });

/** Accepted in an assistant turn of the history and dropped: the served models do not see earlier thoughts. */
const thinkingBlock = z.object({ type: z.enum(["thinking", "redacted_thinking"]) });

const toolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().max(L.idChars),
  name: z.string().max(L.idChars),
  input: z.record(z.string(), z.unknown()),
});

const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().max(L.idChars),
  content: z.union([text, blocks(textBlock)]).optional(),
  is_error: z.boolean().optional(),
});

const block = z.discriminatedUnion("type", [textBlock, toolUseBlock, toolResultBlock, thinkingBlock]);
export type ContentBlock = z.infer<typeof block>;

const content = z.union([text, blocks(block)]);

const message = z.object({ role: z.enum(["user", "assistant"]), content });

/** Anthropic's rule for tool names. */
const toolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'");

/** A client tool. Server tools (web search, code execution, ...) have no `input_schema` and are refused by it. */
const tool = z.object({
  type: z.literal("custom").optional(),
  name: toolName,
  description: z.string().max(L.descriptionChars).optional(),
  input_schema: z.record(z.string(), z.unknown()),
});

const toolChoice = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("tool"), name: z.string().max(L.idChars), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("none") }),
]);

const system = z.union([text, blocks(textBlock)]);

/** What count_tokens and messages share: everything that makes up the prompt. */
const promptFields = {
  model: z.string().min(1).max(L.modelChars),
  system: system.optional(),
  messages: z.array(message).min(1).max(L.messages),
  tools: z.array(tool).max(L.tools).optional(),
  tool_choice: toolChoice.optional(),
  /**
   * Extended thinking. A reasoning model's thoughts come back as `thinking` blocks only when this
   * asks for them (`enabled` or `adaptive`, unless `display: "omitted"`); otherwise they are left
   * out, as Anthropic's API leaves them out. budget_tokens is accepted and not enforced.
   */
  thinking: z
    .object({
      type: z.string().max(64),
      budget_tokens: z.number().int().min(0).optional(),
      display: z.enum(["summarized", "omitted"]).nullish(),
    })
    .optional(),
};

function checkToolChoice(body: { tools?: { name: string }[]; tool_choice?: z.infer<typeof toolChoice> }, ctx: z.RefinementCtx) {
  const tools = body.tools ?? [];
  const choice = body.tool_choice;
  if (choice == null) return;
  if ((choice.type === "any" || choice.type === "tool") && tools.length === 0) {
    ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice requires tools" });
  } else if (choice.type === "tool" && !tools.some((t) => t.name === choice.name)) {
    ctx.addIssue({ code: "custom", path: ["tool_choice", "name"], message: "tool_choice names a tool that is not in tools" });
  }
}

export const MessagesRequest = z
  .object({
    ...promptFields,
    max_tokens: z.number().int().min(1),
    stop_sequences: z.array(z.string().max(L.stopChars)).max(L.stops).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    /** The local engine samples with it; an OpenAI-compatible upstream has no such parameter and never sees it. */
    top_k: z.number().int().min(0).optional(),
    /** Accepted and dropped, like OpenAI's `user`: nothing about a request is stored. */
    metadata: z.object({ user_id: z.string().max(L.userChars).nullish() }).optional(),
    stream: z.boolean().optional(),
    /** Priority tiers do not exist here; accepted for SDK compatibility. */
    service_tier: z.string().max(64).optional(),
  })
  .superRefine(checkToolChoice);
export type MessagesRequest = z.infer<typeof MessagesRequest>;

export const CountTokensRequest = z.object(promptFields).superRefine(checkToolChoice);
export type CountTokensRequest = z.infer<typeof CountTokensRequest>;
