import type { Engine } from "../../inference/engine";
import { beginRequest } from "../openai/begin-request";
import { collectGeneration } from "../openai/collect-generation";
import { parseBody } from "../openai/parse-body";
import type { Incoming } from "../openai/service";
import { CountTokensRequest, MessagesRequest } from "./model";
import { MESSAGE_SSE_HEADERS, messageStream } from "./sse";
import { countTokensToGeneration, messageJson, messagesToGeneration, thinkingDisplay } from "./translate";

export interface AnthropicDeps {
  engine: Engine;
  /** The request id the engine sees and `msg_…` carries; by default the id the app gave the request. */
  newRequestId?: () => string;
}

/**
 * The Anthropic Messages endpoints as plain functions of a Fetch `Request` (no Elysia here): the
 * same engine calls as a chat completion, with Anthropic's JSON on either side. Failures are
 * thrown as EnclaveError subclasses; the app's error handler answers them in Anthropic's shape.
 */
export function createAnthropicService(deps: AnthropicDeps) {
  const { engine } = deps;
  const begin = (incoming: Incoming, model: string) => beginRequest(incoming, model, deps.newRequestId);

  return {
    async messages(incoming: Incoming, bodyText: string) {
      const body = parseBody(MessagesRequest, bodyText);
      const { abort, ...context } = begin(incoming, body.model);
      // Resolves after admission: a 400/404/529 is still an ordinary JSON error here.
      const events = await engine.generate(messagesToGeneration(body, context));
      const meta = { requestId: context.requestId, model: body.model, thinking: thinkingDisplay(body) };
      if (body.stream) return new Response(messageStream(events, meta, abort), { headers: MESSAGE_SSE_HEADERS });
      return messageJson(await collectGeneration(events, context.requestId, context.signal), meta);
    },

    async countTokens(incoming: Incoming, bodyText: string) {
      const body = parseBody(CountTokensRequest, bodyText);
      const { abort: _abort, ...context } = begin(incoming, body.model);
      return { input_tokens: await engine.countTokens(countTokensToGeneration(body, context)) };
    },
  };
}
