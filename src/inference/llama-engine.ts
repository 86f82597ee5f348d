import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import {
  type Llama,
  LlamaChat,
  LlamaCompletion,
  type LlamaGrammar,
  TokenBias,
  type ChatModelFunctions,
  type LLamaContextualRepeatPenalty,
  type LlamaChatResponseChunk,
  type LlamaChatResponseFunctionCallParamsChunk,
  type Token,
} from "node-llama-cpp";
import type { Config, ModelConfig } from "../config/schema";
import { ContextLengthExceededError, EnclaveError, EngineError, InvalidRequestError, ModelNotFoundError, OverloadedError, RequestTimeoutError } from "../errors";
import type { Logger } from "../logging/logger";
import { cacheScopeOf, ownedBy } from "./cache-scope";
import { toChatHistory } from "./chat-history";
import { commonPrefixLength } from "./choose-slot";
import type { Engine } from "./engine";
import { engineFailure, requestTexts } from "./engine-failure";
import { createEventChannel, type EventChannel } from "./event-channel";
import { type ForcedTool, forcedToolCall } from "./forced-tool-call";
import { loadLlama as loadLlamaFor } from "./load-llama";
import { createLogprobCapture } from "./logprob-capture";
import { loadedModelSummary } from "./loaded-model-summary";
import { loadModelRuntime, type ModelRuntime, type ThreadPlan } from "./model-runtime";
import { requestDeadline } from "./request-deadline";
import { createRamPromptCache, type RamPromptCache } from "./ram-prompt-cache";
import { createScheduler, type Lease, type Scheduler } from "./scheduler";
import { runPhases } from "./run-phases";
import { createSpeculativeController, type SpeculativeController, type SpeculativeControllerOptions } from "./speculative-controller";
import type { FinishReason, GenerationEvent, GenerationRequest, ModelState, ModelStatus, PromptCacheStatus, Sampling, SpeculativeStatus, ToolCall, ToolDefinition } from "./types";

export interface LlamaEngineDeps {
  config: Pick<Config, "models"> & { engine: Pick<Config["engine"], "gpu" | "max_threads">; limits?: Pick<Config["limits"], "max_request_seconds"> };
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Cores when engine.max_threads is 0; default os.availableParallelism(). */
  cpuCount?: number;
  /** Starts llama.cpp; default getLlama with the engine section. Tests pass one shared instance. */
  loadLlama?: () => Promise<Llama>;
  /** Told once llama.cpp has started, e.g. to report its release and GPU in metrics. */
  onLlamaLoaded?: (llama: Llama) => void;
  /** Tuning of adaptive drafting (see speculative-controller.ts). */
  speculative?: Pick<SpeculativeControllerOptions, "windowTokens" | "minRunTokens" | "sliceTokens" | "exploreEvery" | "maxExploreEvery">;
}

interface ModelEntry {
  config: ModelConfig;
  isDefault: boolean;
  created: number;
  mode: SpeculativeStatus["mode"];
  scheduler: Scheduler;
  controller: SpeculativeController;
  state: ModelState;
  runtime: ModelRuntime | null;
  /** The runtime's `prompt_cache_mb` store; null when off, or the addon cannot copy states. */
  ramCache: RamPromptCache | null;
  loading: Promise<ModelRuntime> | null;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

/** Seconds a client is told to wait for a model that is still loading. */
const LOADING_RETRY_AFTER_SECONDS = 5;
/** The `[limits] max_request_seconds` default, for callers that pass no limits section. */
const DEFAULT_MAX_REQUEST_SECONDS = 600;
/** How long a stopped generation may take to return before the client is answered without it. */
const STOP_GRACE_MS = 5_000;

/**
 * The Engine on llama.cpp. Each model has one context with `parallel` sequences that llama.cpp
 * decodes in one batch; the scheduler hands them out, and a speculative controller per model
 * decides when the sequence's draft predictor runs. The default model loads at start(); others
 * on first use, and unload after keep_alive_seconds idle.
 */
export function createLlamaEngine(deps: LlamaEngineDeps): Engine {
  const { config, logger } = deps;
  const budget = config.engine.max_threads > 0 ? config.engine.max_threads : (deps.cpuCount ?? availableParallelism());
  const loadLlama = deps.loadLlama ?? (() => loadLlamaFor(config.engine, budget, logger));
  const ownsLlama = deps.loadLlama == null;
  let llama: Promise<Llama> | null = null;
  let disposed = false;
  const inflight = new Map<AbortController, Promise<void>>();
  const defaultId = (config.models.find((model) => model.default) ?? config.models[0])?.id;
  const maxRequestSeconds = config.limits?.max_request_seconds ?? DEFAULT_MAX_REQUEST_SECONDS;

  const entries = new Map<string, ModelEntry>(
    config.models.map((model) => {
      const scheduler = createScheduler({
        name: model.id,
        parallel: model.parallel,
        queueSize: model.queue_size,
        contiguous: !model.kv_unified,
        // An unloaded model's sequences are gone, and with them every cached prefix.
        cachedTokens: (slot) => entries.get(model.id)?.runtime?.sequences[slot]?.contextTokens ?? [],
        clearSlot: async (slot, evictedScope) => {
          const entry = entries.get(model.id);
          if (evictedScope != null) await entry?.ramCache?.evict(slot, evictedScope);
          const runtime = entry?.runtime;
          await runtime?.sequences[slot]?.clearHistory();
          // The draft keeps its own copy of the prompt's KV: it goes too, or the draft would propose from another account's prompt.
          await runtime?.draftSequences[slot]?.clearHistory();
        },
      });
      const mode = speculativeMode(model);
      const controller = createSpeculativeController({
        mode,
        adaptive: model.draft?.adaptive ?? true,
        busySequences: () => scheduler.busy,
        ...deps.speculative,
      });
      const entry: ModelEntry = {
        config: model,
        isDefault: model.id === defaultId,
        created: fileCreated(model.path),
        mode,
        scheduler,
        controller,
        state: "unloaded",
        runtime: null,
        ramCache: null,
        loading: null,
        idleTimer: null,
      };
      scheduler.onIdle(() => scheduleUnload(entry));
      return [model.id, entry];
    }),
  );

  function promptCacheStatus(entry: ModelEntry): PromptCacheStatus {
    const sequences = entry.runtime?.sequences ?? [];
    const held = entry.scheduler.scopes().flatMap((scope, slot) => {
      const tokens = sequences[slot]?.contextTokens.length ?? 0;
      return scope == null || tokens === 0 ? [] : [tokens];
    });
    return {
      scope: entry.config.prompt_cache,
      sequences: held.length,
      tokens: held.reduce((sum, tokens) => sum + tokens, 0),
      ramPrefixes: entry.ramCache?.entries ?? 0,
      ramBytes: entry.ramCache?.bytes ?? 0,
    };
  }

  function ramPromptCache(model: ModelConfig, runtime: ModelRuntime): RamPromptCache | null {
    if (model.prompt_cache === "off" || model.prompt_cache_mb === 0) return null;
    const cache = createRamPromptCache({ runtime, budgetBytes: model.prompt_cache_mb * 1024 * 1024, model: model.id, logger });
    if (cache == null)
      logger.warn({ model: model.id }, "prompt_cache_mb is ignored: this llama.cpp addon cannot copy sequence states to memory (node-llama-cpp's prebuilt one; `bun install` rebuilds it where g++ and git are installed)");
    return cache;
  }

  function getLlamaOnce(): Promise<Llama> {
    llama ??= loadLlama().then((loaded) => {
      deps.onLlamaLoaded?.(loaded);
      return loaded;
    });
    return llama;
  }

  function load(entry: ModelEntry): Promise<ModelRuntime> {
    if (entry.runtime != null) return Promise.resolve(entry.runtime);
    entry.loading ??= (async () => {
      entry.state = "loading";
      const started = performance.now();
      try {
        const llama = await getLlamaOnce();
        const runtime = await loadModelRuntime({
          llama,
          config: entry.config,
          mode: entry.mode,
          threads: threadPlan(budget, entry.config),
          keepDrafting: entry.controller.keepDrafting,
        });
        const summary = await loadedModelSummary(llama, runtime, entry.config, entry.mode, Math.round(performance.now() - started));
        if (disposed) {
          await runtime[Symbol.asyncDispose]();
          throw new Error("engine disposed while the model loaded");
        }
        entry.runtime = runtime;
        entry.ramCache = ramPromptCache(entry.config, runtime);
        entry.state = "ready";
        logger.info(summary.fields, summary.message);
        scheduleUnload(entry);
        return runtime;
      } catch (error) {
        entry.state = "failed";
        logger.error({ model: entry.config.id, err: engineFailure(error) }, "model failed to load");
        throw error;
      } finally {
        entry.loading = null;
      }
    })();
    return entry.loading;
  }

  function scheduleUnload(entry: ModelEntry) {
    if (entry.isDefault || entry.config.keep_alive_seconds === 0 || entry.runtime == null) return;
    if (entry.idleTimer != null) clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = null;
      if (entry.scheduler.busy > 0 || entry.runtime == null) return;
      const runtime = entry.runtime;
      entry.runtime = null;
      entry.ramCache?.clear();
      entry.ramCache = null;
      entry.state = "unloaded";
      logger.info({ model: entry.config.id }, "model unloaded after keep-alive");
      void runtime[Symbol.asyncDispose]();
      void entry.scheduler.forget(() => true);
    }, entry.config.keep_alive_seconds * 1000);
    entry.idleTimer.unref?.();
  }

  function keepLoaded(entry: ModelEntry) {
    if (entry.idleTimer != null) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
  }

  async function admit(model: string, requestId: string, waitForModel: boolean): Promise<{ entry: ModelEntry; runtime: ModelRuntime }> {
    if (disposed) throw new EngineError(requestId);
    const entry = entries.get(model);
    if (entry == null) throw new ModelNotFoundError(model);
    keepLoaded(entry);
    if (entry.runtime != null) return { entry, runtime: entry.runtime };
    const loading = load(entry);
    if (!waitForModel) {
      loading.catch(() => {});
      throw new OverloadedError(`model '${model}' is loading`, LOADING_RETRY_AFTER_SECONDS, "model_loading");
    }
    try {
      return { entry, runtime: await loading };
    } catch {
      throw new EngineError(requestId);
    }
  }

  /**
   * Generates into the channel and resolves with how to end it; the caller gives the lease back
   * first, so a client that sees the end never sees its sequence still busy.
   */
  async function run(entry: ModelEntry, runtime: ModelRuntime, lease: Lease, request: GenerationRequest, plan: Plan, channel: EventChannel<GenerationEvent>, abort: AbortController): Promise<() => void> {
    const sequence = runtime.sequences[lease.slot];
    const predictor = runtime.predictors[lease.slot];
    if (sequence == null) throw new Error(`no sequence for slot ${lease.slot}`);
    const scope = cacheScopeOf(entry.config.prompt_cache, request.caller);
    if (scope != null) await entry.ramCache?.prepare(lease.slot, scope, plan.cacheTokens);
    // A request that chooses for itself is not one of the controller's requests (no probe counted).
    // A grammar slows sampling and a draft cannot join it midway: such a run is neither sliced nor measured.
    const measurable = plan.grammar == null && plan.functions == null;
    const speculativeRun = entry.controller.begin(request.speculative === "auto" ? undefined : request.speculative, measurable);
    const drafting = predictor != null && speculativeRun.drafting;
    predictor?.draftThisRun(predictor == null ? { drafting: false } : speculativeRun);
    const before = { ...sequence.tokenPredictions };
    // node-llama-cpp keeps the sequence's tokens up to the first difference and evaluates the rest, always at least the last one.
    const cachedTokens = Math.min(commonPrefixLength(sequence.contextTokens, plan.cacheTokens), Math.max(0, plan.cacheTokens.length - 1));
    let completionTokens = 0;
    // Decode speed, from the first generated token to the last, is what adaptive drafting compares.
    const tokenTimes: number[] = [];
    const common = {
      signal: abort.signal,
      stopOnAbortSignal: true,
      maxTokens: plan.maxTokens,
      temperature: request.sampling.temperature,
      topP: request.sampling.topP,
      topK: request.sampling.topK,
      minP: request.sampling.minP,
      seed: request.sampling.seed,
      repeatPenalty: repeatPenalty(request.sampling),
      tokenBias: tokenBias(runtime, request.sampling),
      // A forced call's output is its arguments under a grammar: a stop string would cut the JSON, and OpenAI's stop applies to content only.
      customStopTriggers: request.sampling.stop.length > 0 && plan.forcedTool == null ? request.sampling.stop : undefined,
      onTextChunk: (text: string) => {
        const logprobs = capture?.take(text);
        if (plan.forcedTool) return;
        if (logprobs == null) {
          if (text.length > 0) channel.push({ type: "text", text });
        } else if (text.length > 0 || logprobs.length > 0) channel.push({ type: "text", text, logprobs });
      },
      onToken: (tokens: Token[]) => {
        completionTokens += tokens.length;
        const now = performance.now();
        tokenTimes.push(...tokens.map(() => now));
        capture?.released(tokens);
      },
    };
    let finishReason: FinishReason = "stop";
    let toolCalls: ToolCall[] = [];
    let stoppedByAbort = false;
    let stopSequence: string | undefined;
    // Logprobs ride on the normal generation (see logprob-capture.ts), so the text is the same with and without them.
    const capture = request.topLogprobs != null ? createLogprobCapture(sequence, request.topLogprobs) : undefined;
    try {
      if (request.input.kind === "text") {
        const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
        try {
          const result = await completion.generateCompletionWithMeta(plan.tokens, {
            ...common,
            grammar: plan.grammar,
            disableContextShift: true,
            contextShiftSize: 0,
          });
          stoppedByAbort = result.metadata.stopReason === "abort";
          finishReason = result.metadata.stopReason === "maxTokens" ? "length" : "stop";
          stopSequence = matchedStop(result.metadata);
        } finally {
          sequence.tokenPredictor?.stop();
          completion.dispose();
        }
      } else {
        const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: runtime.chatWrapper, autoDisposeSequence: false });
        try {
          // Segments are not content: a thought goes out as reasoning, and the logprob capture only passes over their tokens.
          const onResponseChunk = (chunk: LlamaChatResponseChunk) => {
            if (chunk.type !== "segment") return;
            capture?.skipped(chunk.tokens);
            if (chunk.segmentType === "thought" && chunk.text.length > 0) channel.push({ type: "reasoning", text: chunk.text });
          };
          // node-llama-cpp takes either a grammar or functions, never both.
          const partialCalls = new Map<number, { name: string; params: string; done: boolean }>();
          const onFunctionCallParamsChunk = (chunk: LlamaChatResponseFunctionCallParamsChunk) => {
            const call = partialCalls.get(chunk.callIndex) ?? { name: chunk.functionName, params: "", done: false };
            call.params += chunk.paramsChunk;
            call.done = chunk.done;
            partialCalls.set(chunk.callIndex, call);
          };
          const result = plan.functions != null
            ? await chat.generateResponse(plan.history, { ...common, onResponseChunk, functions: plan.functions, onFunctionCallParamsChunk })
            : await chat.generateResponse(plan.history, { ...common, onResponseChunk, grammar: plan.grammar });
          stoppedByAbort = result.metadata.stopReason === "abort";
          finishReason = result.metadata.stopReason === "maxTokens" ? "length" : "stop";
          stopSequence = matchedStop(result.metadata);
          const complete = finishReason !== "length";
          if (plan.forcedTool != null && !stoppedByAbort) {
            const call = forcedToolCall(plan.forcedTool, result.response, complete, toolCallId());
            toolCalls = call == null ? [] : [call];
          } else {
            toolCalls = (result.functionCalls ?? []).map((call) => ({ id: toolCallId(), name: call.functionName, arguments: JSON.stringify(call.params ?? {}) }));
            // A call max_tokens cut short is not among functionCalls: its streamed parameters are all there is of it.
            const cut = complete ? undefined : partialCalls.get(toolCalls.length);
            if (cut != null && !cut.done) toolCalls.push({ id: toolCallId(), name: cut.name, arguments: cut.params });
          }
          if (complete && toolCalls.length > 0) finishReason = "tool_calls";
        } finally {
          sequence.tokenPredictor?.stop();
          chat.dispose({ disposeSequence: false });
        }
      }
      if (stoppedByAbort || abort.signal.aborted) return () => endAborted(channel, abort.signal);
      capture?.check();
      const accepted = sequence.tokenPredictions.used - before.used;
      const usage = { promptTokens: plan.promptTokens, completionTokens, cachedTokens, ...(drafting || (predictor?.modeChanges.length ?? 0) > 0 ? { draftTokensAccepted: accepted } : {}) };
      return () => {
        channel.push({ type: "done", finishReason, toolCalls, usage, ...(finishReason === "stop" && stopSequence != null && { stopSequence }) });
        channel.end();
      };
    } catch (error) {
      if (abort.signal.aborted) return () => endAborted(channel, abort.signal);
      // A message can quote what it failed on (a grammar, a tool's arguments): engineFailure takes that out.
      logger.error({ requestId: request.requestId, model: entry.config.id, err: engineFailure(error, requestTexts(request)) }, "generation failed");
      const failure = error instanceof EnclaveError ? error : new EngineError(request.requestId);
      return () => channel.fail(failure);
    } finally {
      capture?.[Symbol.dispose]();
      const after = sequence.tokenPredictions;
      entry.controller.finish(speculativeRun, {
        phases: runPhases(drafting, tokenTimes, predictor?.modeChanges),
        proposed: after.validated - before.validated + (after.refuted - before.refuted),
        accepted: after.used - before.used,
      });
    }
  }

  return {
    async start() {
      if (defaultId == null) return;
      const entry = entries.get(defaultId);
      if (entry != null) await load(entry);
    },
    isReady() {
      return !disposed && defaultId != null && entries.get(defaultId)?.state === "ready";
    },
    models(): ModelStatus[] {
      return [...entries.values()].map((entry) => ({
        id: entry.config.id,
        isDefault: entry.isDefault,
        state: entry.state,
        created: entry.created,
        contextSize: entry.runtime?.contextSize ?? entry.config.context_size,
        parallel: entry.config.parallel,
        busySequences: entry.scheduler.busy,
        queueDepth: entry.scheduler.queued,
        speculative: entry.controller.status(),
        promptCache: promptCacheStatus(entry),
      }));
    },
    async generate(request) {
      const deadline = requestDeadline(request.signal, maxRequestSeconds);
      let entry: ModelEntry;
      let runtime: ModelRuntime;
      let lease: Lease;
      let plan: Plan;
      try {
        ({ entry, runtime } = await admit(request.model, request.requestId, request.waitForModel));
        try {
          plan = await planGeneration(await getLlamaOnce(), runtime, request);
          lease = await entry.scheduler.acquire(deadline.signal, { scope: cacheScopeOf(entry.config.prompt_cache, request.caller), tokens: plan.cacheTokens });
        } catch (error) {
          if (entry.scheduler.busy === 0) scheduleUnload(entry);
          throw error;
        }
      } catch (error) {
        deadline[Symbol.dispose]();
        throw deadline.expired ? deadline.signal.reason : error;
      }
      keepLoaded(entry);
      // One controller for every way a generation is stopped: client gone, deadline, reader done, shutdown.
      const abort = new AbortController();
      const onAbort = () => abort.abort(deadline.signal.reason);
      deadline.signal.addEventListener("abort", onAbort, { once: true });
      const channel = createEventChannel<GenerationEvent>(() => abort.abort(new Error("the reader stopped")));
      const watchdog = stopWatchdog(abort.signal, () => {
        // node-llama-cpp did not return after the stop: answer the client; the sequence stays held until it does.
        logger.error({ requestId: request.requestId, model: entry.config.id, slot: lease.slot, graceMs: STOP_GRACE_MS }, "generation did not stop when asked");
        channel.fail(abort.signal.reason instanceof RequestTimeoutError ? abort.signal.reason : new EngineError(request.requestId));
      });
      // The level that took the lease gives it back, however run() ends (even if it throws before its own try).
      const running = run(entry, runtime, lease, request, plan, channel, abort)
        .catch((error: unknown) => {
          logger.error({ requestId: request.requestId, model: entry.config.id, err: engineFailure(error, requestTexts(request)) }, "generation failed");
          return () => channel.fail(new EngineError(request.requestId));
        })
        .then((endChannel) => {
          watchdog[Symbol.dispose]();
          deadline[Symbol.dispose]();
          deadline.signal.removeEventListener("abort", onAbort);
          lease.release();
          inflight.delete(abort);
          endChannel();
        });
      inflight.set(abort, running);
      return channel;
    },
    async countTokens(request) {
      const { entry, runtime } = await admit(request.model, request.requestId, request.waitForModel);
      try {
        return planPrompt(runtime, request).promptTokens;
      } finally {
        if (entry.scheduler.busy === 0) scheduleUnload(entry);
      }
    },
    async embed(request) {
      using deadline = requestDeadline(request.signal, maxRequestSeconds);
      const { entry, runtime } = await admit(request.model, request.requestId, request.waitForModel);
      const lease = await entry.scheduler.acquire(deadline.signal);
      try {
        const context = await runtime.embeddingContext();
        const inputs = request.inputs.map((input) => runtime.model.tokenize(input));
        for (const tokens of inputs) if (tokens.length > runtime.contextSize) throw new ContextLengthExceededError(tokens.length, runtime.contextSize);
        const vectors: number[][] = [];
        for (const tokens of inputs) {
          if (deadline.signal.aborted) throw deadline.signal.reason;
          vectors.push([...(await context.getEmbeddingFor(tokens)).vector]);
        }
        return { vectors, promptTokens: inputs.reduce((sum, tokens) => sum + tokens.length, 0) };
      } catch (error) {
        if (error instanceof EnclaveError || deadline.signal.aborted) throw error;
        logger.error({ requestId: request.requestId, model: entry.config.id, err: engineFailure(error, requestTexts(request)) }, "embedding failed");
        throw new EngineError(request.requestId);
      } finally {
        lease.release();
      }
    },
    promptCache: {
      scopes() {
        const scopes = new Set<string>();
        for (const entry of entries.values()) {
          for (const scope of entry.scheduler.scopes()) if (scope != null) scopes.add(scope);
          for (const scope of entry.ramCache?.scopes() ?? []) scopes.add(scope);
        }
        return [...scopes];
      },
      async forget(owner) {
        const matches = ownedBy(owner);
        for (const entry of entries.values()) entry.ramCache?.forget(matches);
        await Promise.all([...entries.values()].map((entry) => entry.scheduler.forget(matches)));
      },
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      const all = [...entries.values()].reverse();
      for (const entry of all) {
        keepLoaded(entry);
        entry.scheduler[Symbol.dispose]();
      }
      // Running generations stop first: a context disposed under them would fail them as engine errors.
      for (const abort of inflight.keys()) abort.abort(new Error("engine shutting down"));
      await Promise.all(inflight.values());
      for (const entry of all) {
        const runtime = entry.runtime ?? (await entry.loading?.catch(() => null)) ?? null;
        entry.runtime = null;
        entry.ramCache?.clear();
        entry.ramCache = null;
        entry.state = "unloaded";
        await runtime?.[Symbol.asyncDispose]();
      }
      if (ownsLlama && llama != null) await (await llama).dispose();
    },
  };
}

/** A stop by the deadline is the client's answer; any other stop (client gone, reader done, shutdown) just ends the stream. */
function endAborted(channel: EventChannel<GenerationEvent>, signal: AbortSignal) {
  if (signal.reason instanceof RequestTimeoutError) channel.fail(signal.reason);
  else channel.end();
}

/** Calls onStuck when a generation has not returned STOP_GRACE_MS after it was stopped. */
function stopWatchdog(signal: AbortSignal, onStuck: () => void): Disposable {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    timer = setTimeout(onStuck, STOP_GRACE_MS);
    timer.unref?.();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return {
    [Symbol.dispose]() {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(timer);
    },
  };
}

interface Plan {
  /** Text input: the prompt's tokens without BOS (LlamaCompletion adds it). */
  tokens: Token[];
  /** The prompt as the sequence will hold it (BOS and chat template included): what a cached prefix is matched against. */
  cacheTokens: Token[];
  history: ReturnType<typeof toChatHistory>;
  promptTokens: number;
  maxTokens: number;
  grammar?: LlamaGrammar;
  functions?: ChatModelFunctions;
  /** Set when toolChoice forces a call: the output is that call's arguments, under a grammar. */
  forcedTool?: ForcedTool;
}


type PromptPlan = Pick<Plan, "tokens" | "cacheTokens" | "history" | "promptTokens" | "functions" | "forcedTool"> & { grammarSchema?: Record<string, unknown> };

/** The prompt as the model will see it (tokens, chat template, tools) and its token count. */
function planPrompt(runtime: ModelRuntime, request: GenerationRequest): PromptPlan {
  const { model } = runtime;
  if (request.input.kind === "text") {
    const tokens = model.tokenize(request.input.prompt, false, model.tokens.shouldPrependBosToken ? "trimLeadingSpace" : undefined);
    const cacheTokens = model.tokens.shouldPrependBosToken && model.tokens.bos != null ? [model.tokens.bos, ...tokens] : tokens;
    return { tokens, cacheTokens, history: [], promptTokens: cacheTokens.length };
  }
  const { tools, toolChoice } = request.input;
  if (typeof toolChoice === "object" && !tools.some((tool) => tool.name === toolChoice.name))
    throw new InvalidRequestError(`tool_choice names '${toolChoice.name}', which is not among the tools`, { param: "tool_choice" });
  if (toolChoice === "required" && tools.length === 0) throw new InvalidRequestError("tool_choice is 'required' but no tools were given", { param: "tool_choice" });
  const history = toChatHistory(request.input.messages);
  let functions: ChatModelFunctions | undefined;
  let forcedTool: ForcedTool | undefined;
  let grammarSchema: Record<string, unknown> | undefined;
  // "required" with one tool can only call that one: its arguments alone go under the grammar, so a cut call keeps its name.
  const forcedName = typeof toolChoice === "object" ? toolChoice.name : toolChoice === "required" && tools.length === 1 ? tools[0]!.name : null;
  if (forcedName != null) {
    forcedTool = { kind: "one", name: forcedName };
    grammarSchema = tools.find((tool) => tool.name === forcedName)?.parameters ?? { type: "object" };
  } else if (toolChoice === "required") {
    forcedTool = { kind: "any", names: tools.map((tool) => tool.name) };
    grammarSchema = anyToolSchema(tools);
  } else if (toolChoice === "auto" && tools.length > 0) {
    functions = Object.fromEntries(tools.map((tool) => [tool.name, { description: tool.description, params: tool.parameters as never }]));
  }
  const { contextText } = runtime.chatWrapper.generateContextState({ chatHistory: history, availableFunctions: functions });
  const cacheTokens = contextText.tokenize(model.tokenizer);
  return { tokens: [], cacheTokens, history, promptTokens: cacheTokens.length, functions, forcedTool, grammarSchema };
}

/** Everything that can fail on the request alone, done before a sequence is taken. */
async function planGeneration(llama: Llama, runtime: ModelRuntime, request: GenerationRequest): Promise<Plan> {
  const { contextSize } = runtime;
  const { grammarSchema, ...prompt } = planPrompt(runtime, request);
  const { promptTokens } = prompt;
  if (promptTokens >= contextSize) throw new ContextLengthExceededError(promptTokens, contextSize);
  const room = contextSize - promptTokens;
  const maxTokens = Math.min(request.sampling.maxTokens ?? room, room);

  let grammar: LlamaGrammar | undefined;
  if (grammarSchema != null) grammar = await jsonSchemaGrammar(llama, grammarSchema, "tools");
  else if (request.responseFormat.type === "json_object") grammar = await llama.getGrammarFor("json");
  else if (request.responseFormat.type === "json_schema") grammar = await jsonSchemaGrammar(llama, request.responseFormat.schema, "response_format");

  return { ...prompt, maxTokens, grammar };
}

async function jsonSchemaGrammar(llama: Llama, schema: Record<string, unknown>, param: string): Promise<LlamaGrammar> {
  try {
    return await llama.createGrammarForJsonSchema(schema as never);
  } catch (error) {
    throw new InvalidRequestError(`the JSON schema is not supported: ${error instanceof Error ? error.message : "unknown reason"}`, { param });
  }
}

/** toolChoice "required" with several tools: the model picks one by name, as llama-server's grammar lets it. */
function anyToolSchema(tools: ToolDefinition[]): Record<string, unknown> {
  const variants = tools.map((tool) => ({
    type: "object",
    properties: { name: { const: tool.name }, arguments: tool.parameters ?? { type: "object" } },
    required: ["name", "arguments"],
  }));
  return { oneOf: variants };
}


function toolCallId(): string {
  return `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/** The stop string that ended a generation: node-llama-cpp reports the custom stop trigger it hit. */
function matchedStop(metadata: { stopReason: string; customStopTrigger?: readonly unknown[] }): string | undefined {
  if (metadata.stopReason !== "customStopTrigger" || metadata.customStopTrigger == null) return undefined;
  const parts = metadata.customStopTrigger.filter((part): part is string => typeof part === "string");
  return parts.length === metadata.customStopTrigger.length ? parts.join("") : undefined;
}

/**
 * OpenAI's penalties default to 0 and a request without `repeat_penalty` means none, so unset is
 * no repeat penalty at all (node-llama-cpp's own default is 1.1).
 */
export function repeatPenalty(sampling: Pick<Sampling, "presencePenalty" | "frequencyPenalty" | "repeatPenalty">): false | LLamaContextualRepeatPenalty {
  const penalty = sampling.repeatPenalty ?? 1;
  if (penalty === 1 && sampling.presencePenalty === 0 && sampling.frequencyPenalty === 0) return false;
  return { penalty, presencePenalty: sampling.presencePenalty, frequencyPenalty: sampling.frequencyPenalty };
}

function tokenBias(runtime: ModelRuntime, sampling: Sampling): TokenBias | undefined {
  const entries = Object.entries(sampling.logitBias);
  if (entries.length === 0) return undefined;
  const bias = new TokenBias(runtime.model.tokenizer);
  // OpenAI's -100 bans the token; anything else is added to its logit.
  for (const [token, value] of entries) bias.set(Number(token) as Token, value <= -100 ? "never" : { logit: value });
  return bias;
}

function speculativeMode(model: ModelConfig): SpeculativeStatus["mode"] {
  if (model.speculative === "auto") return model.draft != null ? "draft" : "none";
  return model.speculative;
}

/**
 * Threads for the target and draft contexts. The target takes the whole budget: it is the one
 * that must be fast. The draft runs beside it, so by default it gets a quarter of the budget
 * (at least one): on two cores a 2-thread draft next to a 2-thread target measured 20 tok/s
 * against 42 with a 1-thread draft, since oversubscribed llama.cpp threads spin-wait.
 */
export function threadPlan(budget: number, model: ModelConfig): ThreadPlan {
  const target = model.threads > 0 ? model.threads : budget;
  const draft = model.draft?.threads ?? 0;
  return { target, draft: draft > 0 ? draft : Math.max(1, Math.floor(budget / 4)) };
}

function fileCreated(path: string): number {
  try {
    return Math.floor(statSync(path).mtimeMs / 1000);
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}
