import { z } from "zod";
import { grammarSchemaField } from "../../validation/grammar-schema";

/**
 * The most every string and list of a request may hold, so what a request carries is bounded by
 * more than the body limit: a 1 MB `stop` string fits in the body and costs the engine far more
 * than its size (it is matched against every token). Beyond a limit: 400 naming the parameter and
 * the limit. The numbers follow OpenAI's where it has one (128 tools, 4 stops, 16 metadata pairs).
 */
export const REQUEST_LIMITS = {
  /** Characters of `model`: ids are short; a long one is refused before it is looked up or metered. */
  modelChars: 256,
  messages: 4096,
  /** Characters of one message's content (or one content part's text, or one prompt or input). */
  contentChars: 1_048_576,
  contentParts: 256,
  toolCalls: 128,
  /** Characters of ids and of function-call arguments carried in the history. */
  idChars: 256,
  argumentsChars: 1_048_576,
  tools: 128,
  descriptionChars: 8192,
  stops: 4,
  stopChars: 256,
  logitBiasEntries: 1024,
  userChars: 256,
  metadataPairs: 16,
  metadataKeyChars: 64,
  metadataValueChars: 512,
  embeddingInputs: 2048,
  /** `n`: OpenAI's own ceiling; the model's sequences bound it further. */
  choices: 128,
} as const;
const L = REQUEST_LIMITS;

/** A record with at most `max` entries (zod's record has no size check of its own). */
function atMostEntries<T extends z.ZodType>(record: T, max: number, what: string) {
  return record.refine((value) => Object.keys(value as object).length <= max, { message: `may have at most ${max} ${what}` });
}

/** Marks a refusal as "valid, but this server does not do it" (code `unsupported_value`). */
const unsupported = { params: { code: "unsupported_value" } } as const;

/**
 * The OpenAI request bodies this server accepts, as zod schemas: each is the validator and, via
 * `z.infer`, the type. Unknown fields are stripped, as OpenAI ignores them. Optional parameters
 * accept `null` as "not set", which several SDKs send. Custom messages here name the rule, never
 * the value the client sent (payloads must not reach error messages).
 */

const CONTENT_PART_UNSUPPORTED: Record<string, string> = {
  image_url: "image content parts are not supported: the served models are text-only",
  input_audio: "audio content parts are not supported: the served models are text-only",
  file: "file content parts are not supported; send the text as a text part",
};

/** A message content part. Only text is served; other known kinds get a 400 that says why. */
const contentPart = z.looseObject({ type: z.string() }).transform((part, ctx) => {
  if (part.type === "text" || part.type === "refusal") {
    const text = part.type === "text" ? part.text : part.refusal;
    if (typeof text === "string" && text.length > L.contentChars) {
      ctx.issues.push({ code: "too_big", origin: "string", maximum: L.contentChars, inclusive: true, input: "", path: [part.type], message: "" });
      return z.NEVER;
    }
    if (typeof text === "string") return text;
    ctx.issues.push({ code: "invalid_type", expected: "string", input: text, path: [part.type], message: "" });
    return z.NEVER;
  }
  ctx.issues.push({
    code: "custom",
    ...unsupported,
    input: part,
    path: ["type"],
    message: CONTENT_PART_UNSUPPORTED[part.type] ?? "unsupported content part type; expected 'text'",
  });
  return z.NEVER;
});

/** string | content parts, as one string. Parts are joined with a newline so words never fuse. */
const content = z.union([z.string().max(L.contentChars), z.array(contentPart).max(L.contentParts).transform((parts) => parts.join("\n"))]);

const toolCall = z.object({
  id: z.string().max(L.idChars),
  type: z.literal("function"),
  function: z.object({ name: z.string().max(L.idChars), arguments: z.string().max(L.argumentsChars) }),
});

const message = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer"]), content }),
  z.object({ role: z.literal("user"), content }),
  z.object({
    role: z.literal("assistant"),
    content: content.nullish(),
    tool_calls: z.array(toolCall).max(L.toolCalls).nullish(),
  }),
  z.object({ role: z.literal("tool"), content, tool_call_id: z.string().max(L.idChars) }),
]);

/** OpenAI's rule for function names. */
export const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'");

const tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: functionName,
    description: z.string().max(L.descriptionChars).nullish(),
    parameters: grammarSchemaField.nullish(),
    /** Accepted; arguments are always constrained to the schema when the engine can. */
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(["auto", "none", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().max(L.idChars) }) }),
]);

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: functionName,
      description: z.string().max(L.descriptionChars).nullish(),
      schema: grammarSchemaField.nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const stopString = z.string().max(L.stopChars);
const stop = z.union([stopString, z.array(stopString).max(L.stops)]);

/** JSON object keys are strings; OpenAI's are token ids. */
const logitBias = atMostEntries(z.record(z.string(), z.number().min(-100).max(100)), L.logitBiasEntries, "entries").transform((bias, ctx) => {
  const out: Record<number, number> = {};
  for (const [key, value] of Object.entries(bias)) {
    if (!/^\d{1,9}$/.test(key)) {
      ctx.issues.push({ code: "custom", input: bias, message: "keys must be token ids (non-negative integers)" });
      return z.NEVER;
    }
    out[Number(key)] = value;
  }
  return out;
});

const onlyOne = (param: string) =>
  z
    .number()
    .int()
    .refine((v) => v === 1, { message: `only ${param}=1 is supported: this server returns one choice per request`, ...unsupported });

const streamOptions = z.object({ include_usage: z.boolean().nullish() });

/** OpenAI's request metadata: accepted within its limits and dropped, like `user`. */
export const metadata = atMostEntries(z.record(z.string().max(L.metadataKeyChars), z.string().max(L.metadataValueChars)), L.metadataPairs, "key-value pairs");

export const model = z.string().min(1).max(L.modelChars);

/** llama-server's samplers, where node-llama-cpp has one; typical_p it has not, so only its no-op value 1 passes. */
const llamaSamplingFields = {
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repeat_penalty: z.number().gt(0).max(10).nullish(),
  /** vLLM's and Hugging Face's name for repeat_penalty. */
  repetition_penalty: z.number().gt(0).max(10).nullish(),
  typical_p: z.number().refine((v) => v === 1, { message: "typical_p is not supported by this server's sampler; omit it or send 1", ...unsupported }).nullish(),
};

/** The two names of one sampler must not disagree: which would win is not the client's guess to make. */
function checkRepeatPenaltyAliases(body: { repeat_penalty?: number | null; repetition_penalty?: number | null }, ctx: z.RefinementCtx) {
  if (body.repeat_penalty != null && body.repetition_penalty != null && body.repeat_penalty !== body.repetition_penalty)
    ctx.addIssue({ code: "custom", path: ["repetition_penalty"], message: "repeat_penalty and repetition_penalty are one setting; send one of them" });
}

/** Parameters both completion endpoints share. */
const samplingFields = {
  ...llamaSamplingFields,
  model,
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: stop.nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: logitBias.nullish(),
  /** Accepted for compatibility and dropped: nothing about a request is stored. */
  user: z.string().max(L.userChars).nullish(),
  metadata: metadata.nullish(),
  n: z.number().int().min(1).max(L.choices).nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions.nullish(),
};

const maxTokens = z.number().int().min(1);

export const ChatCompletionRequest = z
  .object({
    ...samplingFields,
    messages: z.array(message).min(1).max(L.messages),
    max_tokens: maxTokens.nullish(),
    max_completion_tokens: maxTokens.nullish(),
    response_format: responseFormat.nullish(),
    tools: z.array(tool).max(L.tools).nullish(),
    tool_choice: toolChoice.nullish(),
    /** Accepted; the engine decides how many calls one turn makes. */
    parallel_tool_calls: z.boolean().nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    functions: z.unknown().optional(),
    function_call: z.unknown().optional(),
  })
  .superRefine((body, ctx) => {
    checkRepeatPenaltyAliases(body, ctx);
    if (body.functions != null || body.function_call != null) {
      ctx.addIssue({
        code: "custom",
        path: [body.functions != null ? "functions" : "function_call"],
        message: "the deprecated functions API is not supported; use tools and tool_choice",
        ...unsupported,
      });
    }
    if (body.top_logprobs != null && body.logprobs !== true) {
      ctx.addIssue({ code: "custom", path: ["top_logprobs"], message: "top_logprobs requires logprobs to be true" });
    }
    if (body.stream_options != null && body.stream !== true) {
      ctx.addIssue({ code: "custom", path: ["stream_options"], message: "stream_options is only allowed when stream is true" });
    }
    const tools = body.tools ?? [];
    const choice = body.tool_choice;
    if (tools.length === 0 && (choice === "required" || typeof choice === "object")) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice requires tools" });
    } else if (typeof choice === "object" && choice && !tools.some((t) => t.function.name === choice.function.name)) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice names a function that is not in tools" });
    }
  });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** A prompt: one string, or an array holding one string. Token arrays and batches are refused. */
const prompt = z.unknown().transform((value, ctx): string => {
  const text = typeof value === "string" ? value : Array.isArray(value) && value.length === 1 && typeof value[0] === "string" ? value[0] : null;
  if (text != null && text.length > L.contentChars) {
    ctx.issues.push({ code: "too_big", origin: "string", maximum: L.contentChars, inclusive: true, input: "", message: "" });
    return z.NEVER;
  }
  if (text != null) return text;
  if (Array.isArray(value)) {
    const tokens = value.length > 0 && value.every((v) => typeof v === "number" || Array.isArray(v));
    ctx.issues.push({
      code: "custom",
      input: value,
      ...(tokens && unsupported),
      message: tokens
        ? "token-array prompts are not supported; send the prompt as text"
        : value.length === 0
          ? "prompt must not be empty"
          : "only one prompt per request is supported; send an array of one string",
    });
    return z.NEVER;
  }
  ctx.issues.push({
    code: "invalid_type",
    expected: "string",
    input: value,
    message: "",
  });
  return z.NEVER;
});

export const CompletionRequest = z
  .object({
    ...samplingFields,
    prompt,
    /** OpenAI's default for this endpoint is 16. */
    max_tokens: maxTokens.nullish(),
    /** Log probabilities of the n most likely tokens at each position. */
    logprobs: z.number().int().min(0).max(5).nullish(),
    echo: z
      .boolean()
      .refine((v) => !v, { message: "echo is not supported", ...unsupported })
      .nullish(),
    suffix: z
      .string()
      .refine((v) => v === "", { message: "suffix (fill-in-the-middle) is not supported", ...unsupported })
      .nullish(),
    best_of: onlyOne("best_of").nullish(),
  })
  .superRefine((body, ctx) => {
    checkRepeatPenaltyAliases(body, ctx);
    if (body.stream_options != null && body.stream !== true) {
      ctx.addIssue({ code: "custom", path: ["stream_options"], message: "stream_options is only allowed when stream is true" });
    }
  });
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** string | string[]; token arrays are refused with a message that says so. */
const embeddingInput = z.unknown().transform((value, ctx): string[] => {
  const texts = typeof value === "string" ? [value] : value;
  if (Array.isArray(texts) && texts.length > 0 && texts.length <= L.embeddingInputs && texts.every((t) => typeof t === "string")) {
    if (texts.some((t) => t.length === 0)) {
      ctx.issues.push({ code: "custom", input: value, message: "input must not contain empty strings" });
      return z.NEVER;
    }
    if (texts.some((t) => t.length > L.contentChars)) {
      ctx.issues.push({ code: "custom", input: "", message: `each input may have at most ${L.contentChars} characters` });
      return z.NEVER;
    }
    return texts;
  }
  const tokens = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" || Array.isArray(v));
  ctx.issues.push({
    code: "custom",
    input: value,
    ...(tokens && unsupported),
    message: tokens
      ? "token-array inputs are not supported; send text"
      : Array.isArray(value) && value.length > L.embeddingInputs
        ? `input may hold at most ${L.embeddingInputs} strings`
        : "input must be a non-empty string or a non-empty array of strings",
  });
  return z.NEVER;
});

export const EmbeddingRequestBody = z.object({
  model,
  input: embeddingInput,
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z
    .number()
    .int()
    .refine(() => false, { message: "dimensions is not supported; vectors have the model's native size", ...unsupported })
    .nullish(),
  user: z.string().max(L.userChars).nullish(),
});
export type EmbeddingRequestBody = z.infer<typeof EmbeddingRequestBody>;
