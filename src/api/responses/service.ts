import { assertModelAllowed } from "../../caller/assert-model-allowed";
import type { Caller } from "../../caller/caller";
import type { PayloadMode } from "../../config/payload-modes";
import { InvalidRequestError, NotFoundError } from "../../errors";
import type { Engine } from "../../inference/engine";
import { collectGeneration } from "../openai/collect-generation";
import { parseBody } from "../openai/parse-body";
import type { Incoming } from "../openai/service";
import { speculativeHeader } from "../openai/speculative-header";
import { SSE_HEADERS } from "../openai/sse";
import type { RequestContext } from "../openai/translate";
import { waitForModel } from "../openai/wait-for-model";
import { ResponsesRequest } from "./model";
import { responseEventFormat, responseSseStream } from "./sse";
import { finishedResponseJson, responsesToGeneration } from "./translate";

export interface ResponsesDeps {
  engine: Engine;
  /** The request id the engine sees and `resp_…` carries; by default the app's (its `x-request-id`). */
  newRequestId?: () => string;
  /** Milliseconds since the epoch, for `created_at`. */
  now?: () => number;
  /** The payload retention that applies to a caller (consent, overrides, `[retention] payloads`); absent: "none". */
  retention?: (caller: Caller) => PayloadMode;
}

/** Why nothing can be fetched, chained or deleted: the policy's reason, or that retention on does not store responses yet. */
function storageOff(mode: PayloadMode): string {
  return mode === "none"
    ? "responses are not stored: storage is off by the retention policy (zero data retention)"
    : "responses are not stored: this server keeps retained payloads for the retention policy's purposes only, not as stored responses";
}

/**
 * The Responses API as plain functions of a Fetch `Request`: parse, translate to the engine's
 * chat request, generate, shape a `response`. The same engine stack as /v1/chat/completions, so
 * limits, metering and retention apply unchanged; nothing of a response is kept here.
 */
export function createResponsesService(deps: ResponsesDeps) {
  const { engine } = deps;
  const now = deps.now ?? Date.now;
  const retention = ({ caller }: Incoming): PayloadMode => deps.retention?.(caller) ?? "none";

  /** One AbortController per request: fired by the client's disconnect or by a cancelled stream. */
  function begin({ request, requestId, caller }: Incoming, model: string): RequestContext & { abort: AbortController } {
    assertModelAllowed(caller, model);
    const abort = new AbortController();
    const client = request.signal;
    if (client.aborted) abort.abort(client.reason);
    else client.addEventListener("abort", () => abort.abort(client.reason), { once: true });
    const id = deps.newRequestId?.() ?? requestId ?? crypto.randomUUID().replaceAll("-", "");
    return { requestId: id, caller, signal: abort.signal, waitForModel: waitForModel(request.headers), speculative: speculativeHeader(request.headers), abort };
  }

  return {
    async create(incoming: Incoming, bodyText: string) {
      const body = parseBody(ResponsesRequest, bodyText);
      if (body.previous_response_id != null) {
        throw new InvalidRequestError(`previous_response_id cannot be used: ${storageOff(retention(incoming))}`, { param: "previous_response_id", code: "storage_disabled" });
      }
      const { abort, ...context } = begin(incoming, body.model);
      // Resolves after admission: a 400/404/503 is still an ordinary JSON error here.
      const events = await engine.generate(responsesToGeneration(body, context));
      const meta = { requestId: context.requestId, createdAt: Math.floor(now() / 1000) };
      if (body.stream) {
        const format = responseEventFormat(body, meta);
        return new Response(responseSseStream(events, format, abort, context.requestId), { headers: SSE_HEADERS });
      }
      return finishedResponseJson(body, meta, await collectGeneration(events, context.requestId));
    },

    /** GET / DELETE /v1/responses/{id} and its input_items: there is nothing stored to find. The id is not repeated. */
    stored(incoming: Incoming): never {
      throw new NotFoundError(`no such response: ${storageOff(retention(incoming))}`);
    },
  };
}
