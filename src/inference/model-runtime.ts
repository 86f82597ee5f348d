import {
  type ChatWrapper,
  DraftSequenceTokenPredictor,
  InputLookupTokenPredictor,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  resolveChatWrapper,
  GeneralChatWrapper,
} from "node-llama-cpp";
import type { ModelConfig } from "../config/schema";
import { AdaptiveTokenPredictor } from "./adaptive-token-predictor";
import { createDraftLength } from "./draft-length";
import type { SpeculativeStatus } from "./types";
import { useMmapFor } from "./weights-in-memory";

export interface ThreadPlan {
  target: number;
  draft: number;
}

/**
 * One loaded model: a context whose sequences are the scheduler's slots (index = slot), each
 * with its own adaptive predictor, and the draft model's context beside it when drafting by model.
 */
export interface ModelRuntime extends AsyncDisposable {
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly sequences: readonly LlamaContextSequence[];
  /** Per slot; undefined when the model does not speculate. */
  readonly predictors: readonly (AdaptiveTokenPredictor | undefined)[];
  /** Per slot, the draft context's sequence its predictor keeps in step with the target's; undefined without a draft model. */
  readonly draftSequences: readonly (LlamaContextSequence | undefined)[];
  readonly chatWrapper: ChatWrapper;
  /** Tokens per sequence, after llama.cpp's own limits. */
  readonly contextSize: number;
  /** Created on first use: most deployments never embed with a chat model. */
  embeddingContext(): Promise<LlamaEmbeddingContext>;
}

export interface LoadModelRuntimeOptions {
  llama: Llama;
  config: ModelConfig;
  mode: SpeculativeStatus["mode"];
  threads: ThreadPlan;
  keepDrafting: () => boolean;
}

export async function loadModelRuntime({ llama, config, mode, threads, keepDrafting }: LoadModelRuntimeOptions): Promise<ModelRuntime> {
  // Built up in load order so a failure half-way, and dispose, undo it in reverse.
  const undo: (() => Promise<void> | void)[] = [];
  const disposeAll = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  // The default of every context made from the model: target, draft and embedding contexts alike.
  const defaultContextFlashAttention = config.flash_attention === "auto" ? "auto" : config.flash_attention === "on";
  // The draft's weights count only where the draft is loaded.
  const useMmap = useMmapFor({ ...config, draft: mode === "draft" ? config.draft : undefined }, llama.gpu !== false);
  try {
    const model = await llama.loadModel({ modelPath: config.path, gpuLayers: config.gpu_layers, defaultContextFlashAttention, useMmap });
    undo.push(() => model.dispose());

    let draftContext: LlamaContext | undefined;
    if (mode === "draft" && config.draft != null) {
      const draftModel = await llama.loadModel({ modelPath: config.draft.path, gpuLayers: config.gpu_layers, defaultContextFlashAttention, useMmap });
      undo.push(() => draftModel.dispose());
      const context = await draftModel.createContext({ contextSize: config.context_size, sequences: config.parallel, threads: threads.draft, kvUnified: config.kv_unified });
      undo.push(() => context.dispose());
      draftContext = context;
    }

    const draftSequences = Array.from({ length: config.parallel }, () => (mode === "draft" && config.draft != null ? draftContext?.getSequence() : undefined));
    const predictors = draftSequences.map((draftSequence) => {
      if (draftSequence != null && config.draft != null) {
        const draft = new DraftSequenceTokenPredictor(draftSequence, {
          // At least one: with none the target runs ahead of the draft and most proposals come too late.
          minTokens: Math.max(1, config.draft.min_tokens),
          maxTokens: config.draft.max_tokens,
          minConfidence: config.draft.min_confidence,
        });
        const draftLength = createDraftLength(config.draft.min_tokens, config.draft.max_tokens);
        return new AdaptiveTokenPredictor(draft, keepDrafting, (target) => void (draft.minTokens = draftLength.next(target.tokenPredictions)));
      }
      if (mode === "lookup") return new AdaptiveTokenPredictor(new InputLookupTokenPredictor(), keepDrafting);
      return undefined;
    });

    // One KV buffer for all sequences (see the patch): llama.cpp then decodes whichever sequences are busy in one pass,
    // where a buffer per sequence batched only runs of consecutive ids and made throughput depend on which slots were free.
    const context = await model.createContext({ contextSize: config.context_size, sequences: config.parallel, threads: threads.target, kvUnified: config.kv_unified });
    undo.push(async () => {
      // A predictor still drafting would call into a disposed sequence.
      for (const predictor of predictors) predictor?.stop();
      await context.dispose();
    });
    const sequences = predictors.map((tokenPredictor) => context.getSequence({ tokenPredictor }));

    let embedding: Promise<LlamaEmbeddingContext> | undefined;
    return {
      model,
      context,
      sequences,
      predictors,
      draftSequences,
      chatWrapper: resolveChatWrapper(model, { fallbackToOtherWrappersOnJinjaError: true }) ?? new GeneralChatWrapper(),
      contextSize: context.contextSize,
      embeddingContext() {
        embedding ??= model.createEmbeddingContext({ contextSize: context.contextSize, threads: threads.target }).then((created) => {
          undo.push(() => created.dispose());
          return created;
        });
        return embedding;
      },
      [Symbol.asyncDispose]: disposeAll,
    };
  } catch (error) {
    await disposeAll();
    throw error;
  }
}
