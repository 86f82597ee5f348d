import { visibleTo } from "../../caller/assert-model-allowed";
import { beginRequest } from "./begin-request";
import type { Caller } from "../../caller/caller";
import { ModelNotFoundError } from "../../errors";
import type { Engine } from "../../inference/engine";
import { collectGeneration } from "./collect-generation";
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequestBody } from "./model";
import { parseBody } from "./parse-body";
import { chatChunkFormat, SSE_HEADERS, sseStream, textChunkFormat } from "./sse";
import {
  chatCompletionJson,
  chatToGeneration,
  completionToGeneration,
  embeddingListJson,
  embeddingToRequest,
  modelJson,
  modelListJson,
  textCompletionJson,
} from "./translate";

/** A request as the service sees it: the Fetch Request, who is calling, and the id the app assigned, if any. */
export interface Incoming {
  request: Request;
  caller: Caller;
  requestId?: string;
}

export interface OpenAiDeps {
  engine: Engine;
  /**
   * The request id the engine sees and `chatcmpl-…`/`cmpl-…` carry. By default the id the app gave
   * the request (its `x-request-id` header), so logs, engine errors and response ids correlate.
   */
  newRequestId?: () => string;
  /** Milliseconds since the epoch, for `created`. */
  now?: () => number;
}

/**
 * The OpenAI endpoints as plain functions of a Fetch `Request` (no Elysia here): parse the body,
 * translate it, call the engine, shape the answer. Failures are thrown as EnclaveError subclasses
 * for the app's one error handler; the engine's own errors pass through untouched.
 */
export function createOpenAiService(deps: OpenAiDeps) {
  const { engine } = deps;
  const now = deps.now ?? Date.now;
  const begin = (incoming: Incoming, model: string) => beginRequest(incoming, model, deps.newRequestId);

  const created = () => Math.floor(now() / 1000);

  /** The engine's models the caller may see: /v1/models lists only those, and /v1/models/:id of another answers 404 as if it did not exist. */
  const visibleModels = ({ caller }: Incoming) => visibleTo(caller, engine.models());

  return {
    listModels: (incoming: Incoming) => modelListJson(visibleModels(incoming)),

    getModel(incoming: Incoming, id: string) {
      const model = visibleModels(incoming).find((m) => m.id === id);
      if (!model) throw new ModelNotFoundError(id);
      return modelJson(model);
    },

    async chatCompletions(incoming: Incoming, bodyText: string) {
      const body = parseBody(ChatCompletionRequest, bodyText);
      const { abort, ...context } = begin(incoming, body.model);
      // Resolves after admission: a 400/404/503 is still an ordinary JSON error here.
      const events = await engine.generate(chatToGeneration(body, context));
      const meta = { requestId: context.requestId, model: body.model, created: created() };
      const wantLogprobs = body.logprobs === true;
      if (body.stream) {
        const format = chatChunkFormat({ meta, includeUsage: body.stream_options?.include_usage === true, wantLogprobs, choices: body.n ?? 1 });
        return new Response(sseStream(events, format, abort, context.requestId), { headers: SSE_HEADERS });
      }
      return chatCompletionJson(await collectGeneration(events, context.requestId, context.signal), meta, wantLogprobs);
    },

    async completions(incoming: Incoming, bodyText: string) {
      const body = parseBody(CompletionRequest, bodyText);
      const { abort, ...context } = begin(incoming, body.model);
      const events = await engine.generate(completionToGeneration(body, context));
      const meta = { requestId: context.requestId, model: body.model, created: created() };
      const wantLogprobs = body.logprobs != null;
      if (body.stream) {
        const options = { meta, includeUsage: body.stream_options?.include_usage === true, wantLogprobs, choices: body.n ?? 1 };
        const format = textChunkFormat(options, body.prompt.length);
        return new Response(sseStream(events, format, abort, context.requestId), { headers: SSE_HEADERS });
      }
      const generation = await collectGeneration(events, context.requestId, context.signal);
      return textCompletionJson(generation, meta, wantLogprobs, body.prompt.length);
    },

    async embeddings(incoming: Incoming, bodyText: string) {
      const body = parseBody(EmbeddingRequestBody, bodyText);
      const { abort: _abort, ...context } = begin(incoming, body.model);
      const result = await engine.embed(embeddingToRequest(body, context));
      return embeddingListJson(result, body.model, body.encoding_format ?? "float");
    },
  };
}

export type OpenAiService = ReturnType<typeof createOpenAiService>;
