import { ContextLengthExceededError, EngineError, InvalidRequestError, ModelNotFoundError, OverloadedError } from "../errors";
import type { Engine } from "./engine";
import { ownedStream } from "./owned-stream";
import { createScheduler, type Scheduler } from "./scheduler";
import type {
  GenerationEvent,
  GenerationInput,
  GenerationRequest,
  ModelState,
  ModelStatus,
  SpeculativeStatus,
  TokenLogprob,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from "./types";

export interface FakeModel {
  id: string;
  /** Loaded by start(); the first model when none is marked. */
  isDefault?: boolean;
  /** Default 4096. */
  contextSize?: number;
  /** Default 2. */
  parallel?: number;
  /** Default 32. */
  queueSize?: number;
  /** How long the model takes to load; default 0. */
  loadDelayMs?: number;
  /** Default 8. */
  embeddingDimension?: number;
  /** Reported in ModelStatus.speculative; default "none". */
  speculative?: SpeculativeStatus["mode"];
}

export interface FakeEngineOptions {
  /** Default: one model "fake" with the defaults above. */
  models?: FakeModel[];
  /** Pause before each generated token, to hold sequences busy in tests; default 0. */
  tokenDelayMs?: number;
  /** Tokens after which the fake "model" ends by itself (finishReason "stop"); default 16. */
  naturalLength?: number;
  /** Unix seconds reported as every model's `created`; default 1_700_000_000. */
  created?: number;
  /** Thoughts the fake "model" has before each chat answer, sent word by word as reasoning events; default none. */
  reasoning?: string;
  /** Fault injection: "admit" rejects generate() with EngineError, "stream" throws it mid-stream. */
  fault?: (request: GenerationRequest) => "admit" | "stream" | undefined;
}

/**
 * Prompt tokens as the fake counts them: one per whitespace-separated word, plus two per chat
 * message (role markers), so API tests can predict `usage` and context overflow.
 */
export function fakePromptTokens(input: GenerationInput): number {
  if (input.kind === "text") return countWords(input.prompt);
  return input.messages.reduce((sum, message) => sum + countWords(message.content) + 2, 0);
}

/**
 * The fake's greedy continuation, a successor rule: the integer after the last integer in the
 * prompt (the last message for chat), then the next, each token a space and a number.
 * "count: 1 2 3" continues " 4", " 5", " 6", ...; a prompt with no integer starts at 1.
 */
export function fakeContinuation(input: GenerationInput, tokens: number): string[] {
  const text = input.kind === "text" ? input.prompt : (input.messages.at(-1)?.content ?? "");
  const last = text.match(/\d+(?!.*\d)/s)?.[0];
  const start = last == null ? 1 : Number(last) + 1;
  return Array.from({ length: tokens }, (_, index) => ` ${start + index}`);
}

/** The smallest value of a JSON schema's shape: what the fake answers for json_schema and tool arguments. */
export function fakeJsonForSchema(schema: Record<string, unknown> | undefined): unknown {
  if (schema == null) return {};
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const variants = (schema.anyOf ?? schema.oneOf) as Record<string, unknown>[] | undefined;
  if (Array.isArray(variants) && variants[0] != null) return fakeJsonForSchema(variants[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return "text";
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
      return Array.from({ length: minItems }, () => fakeJsonForSchema(schema.items as Record<string, unknown> | undefined));
    }
    default: {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, fakeJsonForSchema(value)]));
    }
  }
}

interface FakeRuntime {
  config: Required<FakeModel>;
  state: ModelState;
  loading: Promise<void> | null;
  scheduler: Scheduler;
}

/**
 * A deterministic Engine for tests that need no model. It shares the real scheduler, so queue
 * limits, 503s and abort-while-queued behave as in production; its text is the successor rule
 * of `fakeContinuation`, its JSON the schema's smallest value, its tool calls forced by
 * toolChoice "required" or a name, or chosen under "auto" when the last message names the tool.
 * On abort the stream ends without a `done` event.
 */
export function createFakeEngine(options: FakeEngineOptions = {}): Engine {
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const naturalLength = options.naturalLength ?? 16;
  const created = options.created ?? 1_700_000_000;
  const models = options.models ?? [{ id: "fake" }];
  const defaultId = (models.find((model) => model.isDefault) ?? models[0])?.id;
  const shutdown = new AbortController();
  let disposed = false;

  const runtimes = new Map<string, FakeRuntime>(
    models.map((model) => {
      const config: Required<FakeModel> = {
        id: model.id,
        isDefault: model.id === defaultId,
        contextSize: model.contextSize ?? 4096,
        parallel: model.parallel ?? 2,
        queueSize: model.queueSize ?? 32,
        loadDelayMs: model.loadDelayMs ?? 0,
        embeddingDimension: model.embeddingDimension ?? 8,
        speculative: model.speculative ?? "none",
      };
      const scheduler = createScheduler({ name: model.id, parallel: config.parallel, queueSize: config.queueSize });
      return [model.id, { config, state: "unloaded", loading: null, scheduler }];
    }),
  );

  function load(runtime: FakeRuntime): Promise<void> {
    if (runtime.state === "ready") return Promise.resolve();
    runtime.loading ??= (async () => {
      runtime.state = "loading";
      await sleep(runtime.config.loadDelayMs, shutdown.signal);
      runtime.state = "ready";
    })();
    return runtime.loading;
  }

  async function ready(model: string, requestId: string, waitForModel: boolean): Promise<FakeRuntime> {
    if (disposed) throw new EngineError(requestId);
    const runtime = runtimes.get(model);
    if (runtime == null) throw new ModelNotFoundError(model);
    if (runtime.state !== "ready" && !waitForModel) {
      void load(runtime);
      throw new OverloadedError(`model '${model}' is loading`, 5, "model_loading");
    }
    await load(runtime);
    return runtime;
  }

  async function* stream(request: GenerationRequest, runtime: FakeRuntime, promptTokens: number, signal: AbortSignal): AsyncGenerator<GenerationEvent, void, undefined> {
    const { input, sampling } = request;
    const toolCalls = input.kind === "chat" ? chooseToolCalls(request.requestId, input.tools, input.toolChoice, input.messages.at(-1)?.content ?? "") : [];
    if (toolCalls.length > 0) {
      await sleep(tokenDelayMs, signal);
      if (signal.aborted) return;
      // Arguments come out in 4-character tokens, so max_tokens cuts a call as it would a real model's.
      const needed = toolCalls.reduce((sum, call) => sum + Math.ceil(call.arguments.length / 4), 0);
      const limit = sampling.maxTokens ?? Number.POSITIVE_INFINITY;
      if (needed <= limit) {
        yield { type: "done", finishReason: "tool_calls", toolCalls, usage: { promptTokens, completionTokens: needed } };
        return;
      }
      const cut = toolCalls.slice(0, 1).map((call) => ({ ...call, arguments: call.arguments.slice(0, limit * 4) }));
      yield { type: "done", finishReason: "length", toolCalls: cut, usage: { promptTokens, completionTokens: limit } };
      return;
    }

    if (input.kind === "chat" && options.reasoning != null) {
      for (const word of options.reasoning.match(/\s*\S+/g) ?? []) {
        await sleep(tokenDelayMs, signal);
        if (signal.aborted) return;
        yield { type: "reasoning", text: word };
      }
    }

    const room = runtime.config.contextSize - promptTokens;
    const limit = Math.min(sampling.maxTokens ?? Number.POSITIVE_INFINITY, room);
    const tokens = plannedTokens(request, naturalLength);
    const stops = sampling.stop.filter((stop) => stop.length > 0);
    let text = "";
    let emitted = 0;
    let pendingLogprobs: TokenLogprob[] = [];
    let generated = 0;

    for (const token of tokens) {
      if (generated >= limit) break;
      await sleep(tokenDelayMs, signal);
      if (signal.aborted) return;
      if (generated === Math.floor(tokens.length / 2) && options.fault?.(request) === "stream") throw new EngineError(request.requestId);
      generated++;
      text += token;
      if (request.topLogprobs != null) pendingLogprobs.push(fakeLogprob(token, request.topLogprobs));

      const hit = firstStop(text, stops, emitted);
      const end = hit ?? safeEnd(text, stops, emitted);
      if (end > emitted) {
        yield { type: "text", text: text.slice(emitted, end), ...(request.topLogprobs != null ? { logprobs: pendingLogprobs } : {}) };
        emitted = end;
        pendingLogprobs = [];
      }
      if (hit != null) {
        const stopSequence = stops.find((stop) => text.startsWith(stop, hit));
        yield { type: "done", finishReason: "stop", toolCalls: [], usage: { promptTokens, completionTokens: generated }, ...(stopSequence != null && { stopSequence }) };
        return;
      }
    }
    if (text.length > emitted) yield { type: "text", text: text.slice(emitted), ...(request.topLogprobs != null ? { logprobs: pendingLogprobs } : {}) };
    const finishReason = generated < tokens.length ? "length" : "stop";
    yield { type: "done", finishReason, toolCalls: [], usage: { promptTokens, completionTokens: generated } };
  }

  return {
    async start() {
      if (defaultId == null) return;
      const runtime = runtimes.get(defaultId);
      if (runtime != null) await load(runtime);
    },
    isReady() {
      return !disposed && defaultId != null && runtimes.get(defaultId)?.state === "ready";
    },
    models(): ModelStatus[] {
      return [...runtimes.values()].map(({ config, state, scheduler }) => ({
        id: config.id,
        isDefault: config.isDefault,
        state,
        created,
        contextSize: config.contextSize,
        parallel: config.parallel,
        busySequences: scheduler.busy,
        queueDepth: scheduler.queued,
        speculative: { mode: config.speculative, active: config.speculative !== "none", acceptance: null, draftTokensProposed: 0, draftTokensAccepted: 0 },
      }));
    },
    async generate(request) {
      const runtime = await ready(request.model, request.requestId, request.waitForModel);
      if (request.input.kind === "chat") validateToolChoice(request.input.tools, request.input.toolChoice);
      const promptTokens = fakePromptTokens(request.input);
      if (promptTokens >= runtime.config.contextSize) throw new ContextLengthExceededError(promptTokens, runtime.config.contextSize);
      if (options.fault?.(request) === "admit") throw new EngineError(request.requestId);
      const signal = AbortSignal.any([request.signal, shutdown.signal]);
      const lease = await runtime.scheduler.acquire(signal);
      return ownedStream(stream(request, runtime, promptTokens, signal), lease.release);
    },
    async countTokens(request) {
      await ready(request.model, request.requestId, request.waitForModel);
      if (request.input.kind === "chat") validateToolChoice(request.input.tools, request.input.toolChoice);
      return fakePromptTokens(request.input);
    },
    async embed(request) {
      const runtime = await ready(request.model, request.requestId, request.waitForModel);
      const lease = await runtime.scheduler.acquire(AbortSignal.any([request.signal, shutdown.signal]));
      try {
        const vectors = request.inputs.map((input) => fakeEmbedding(input, runtime.config.embeddingDimension));
        const promptTokens = request.inputs.reduce((sum, input) => sum + countWords(input), 0);
        return { vectors, promptTokens };
      } finally {
        lease.release();
      }
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      shutdown.abort(new EngineError("shutdown"));
      for (const runtime of runtimes.values()) {
        runtime.scheduler[Symbol.dispose]();
        runtime.state = "unloaded";
      }
    },
  };
}

function plannedTokens(request: GenerationRequest, naturalLength: number): string[] {
  const { responseFormat } = request;
  if (responseFormat.type === "text") return fakeContinuation(request.input, naturalLength);
  const json = JSON.stringify(responseFormat.type === "json_schema" ? fakeJsonForSchema(responseFormat.schema) : { value: fakeContinuation(request.input, 1)[0]?.trim() });
  // JSON comes out in 4-character tokens, so maxTokens can cut it as it would a real model's.
  return json.match(/.{1,4}/gs) ?? [];
}

function validateToolChoice(tools: ToolDefinition[], toolChoice: ToolChoice) {
  if (typeof toolChoice === "object" && !tools.some((tool) => tool.name === toolChoice.name))
    throw new InvalidRequestError(`tool_choice names '${toolChoice.name}', which is not among the tools`, { param: "tool_choice" });
  if (toolChoice === "required" && tools.length === 0) throw new InvalidRequestError("tool_choice is 'required' but no tools were given", { param: "tool_choice" });
}

function chooseToolCalls(requestId: string, tools: ToolDefinition[], toolChoice: ToolChoice, lastMessage: string): ToolCall[] {
  let tool: ToolDefinition | undefined;
  if (toolChoice === "none") return [];
  if (toolChoice === "required") tool = tools[0];
  else if (typeof toolChoice === "object") tool = tools.find((candidate) => candidate.name === toolChoice.name);
  else tool = tools.find((candidate) => lastMessage.includes(candidate.name));
  if (tool == null) return [];
  return [{ id: `call_${requestId}_0`, name: tool.name, arguments: JSON.stringify(fakeJsonForSchema(tool.parameters ?? { type: "object" })) }];
}

function fakeLogprob(token: string, top: number): TokenLogprob {
  const alternatives = [token, " the", " a", " and", " of", " to", " in", " is", " it", " that"];
  return { token, logprob: -0.01, top: alternatives.slice(0, top).map((alternative, rank) => ({ token: alternative, logprob: rank === 0 ? -0.01 : -1 - rank })) };
}

/** A unit vector that depends only on the text, so equal inputs embed equally. */
function fakeEmbedding(text: string, dimension: number): number[] {
  let hash = 2166136261;
  const vector = Array.from({ length: dimension }, (_, index) => {
    for (const char of `${index}:${text}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
    return ((hash >>> 0) / 2 ** 32) * 2 - 1;
  });
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}

function firstStop(text: string, stops: string[], from: number): number | null {
  let first: number | null = null;
  for (const stop of stops) {
    // Held-back text means a stop can only begin at or after what was already shown.
    const index = text.indexOf(stop, from);
    if (index >= 0 && (first == null || index < first)) first = index;
  }
  return first;
}

/** End of the text that can be shown without risk: a tail that could still begin a stop string is held back. */
function safeEnd(text: string, stops: string[], from: number): number {
  let end = text.length;
  for (const stop of stops)
    for (let length = Math.min(stop.length - 1, text.length - from); length > 0; length--)
      if (text.endsWith(stop.slice(0, length))) {
        end = Math.min(end, text.length - length);
        break;
      }
  return end;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
