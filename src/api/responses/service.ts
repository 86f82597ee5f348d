import { InvalidRequestError, NotFoundError } from "../../errors";
import type { Engine } from "../../inference/engine";
import type { ChatMessage, ToolCall } from "../../inference/types";
import { beginRequest } from "../openai/begin-request";
import { collectGeneration } from "../openai/collect-generation";
import { parseBody } from "../openai/parse-body";
import type { Incoming } from "../openai/service";
import { SSE_HEADERS } from "../openai/sse";
import { parseInput } from "../../validation/parse-input";
import { InputItemsQuery, ResponsesRequest } from "./model";
import type { ResponseStorage, StorageState } from "./response-storage";
import { responseEventFormat, responseSseStream } from "./sse";
import { finishedResponseJson, historyOf, inputItemsJson, outputTurn, responseId, responsesToGeneration } from "./translate";

export interface ResponsesDeps {
  engine: Engine;
  /** The request id the engine sees and `resp_…` carries; by default the app's (its `x-request-id`). */
  newRequestId?: () => string;
  /** Milliseconds since the epoch, for `created_at`. */
  now?: () => number;
  /** Stored responses where the retention policy allows them; absent: nothing is ever stored (zero data retention). */
  storage?: ResponseStorage;
}

const ZDR: StorageState = { on: false, reason: "storage is off by the retention policy (zero data retention)" };

/** `resp_<request id>` -> the request id; anything else names no response. */
const requestIdOf = (id: string) => (id.startsWith("resp_") ? id.slice("resp_".length) : null);

/**
 * The Responses API as plain functions of a Fetch `Request`: parse, translate to the engine's
 * chat request, generate, shape a `response`. The same engine stack as /v1/chat/completions, so
 * limits, metering and retention apply unchanged. A response is stored only where the caller's
 * retention allows it (see response-storage.ts); elsewhere `store` is answered with false and the
 * storage paths say why. Error messages never repeat a client's ids.
 */
export function createResponsesService(deps: ResponsesDeps) {
  const { engine, storage } = deps;
  const now = deps.now ?? Date.now;
  const storageFor = async ({ caller }: Incoming): Promise<StorageState> => (storage == null ? ZDR : storage.state(caller));

  const begin = (incoming: Incoming, model: string) => beginRequest(incoming, model, deps.newRequestId);

  /** The stored conversation `previous_response_id` continues, or a 400 that says why there is none. */
  async function previousHistory(incoming: Incoming, state: StorageState, previousId: string | null | undefined): Promise<ChatMessage[]> {
    if (previousId == null) return [];
    const param = "previous_response_id";
    if (!state.on) throw new InvalidRequestError(`previous_response_id cannot be used: responses are not stored: ${state.reason}`, { param, code: "storage_disabled" });
    const requestId = requestIdOf(previousId);
    const previous = requestId == null ? null : await storage!.find(incoming.caller, requestId);
    if (previous == null) throw new InvalidRequestError("previous_response_id names no stored response of this account", { param, code: "previous_response_not_found" });
    return previous.history;
  }

  /** A stored response of the caller's account, or a 404 that says why there is none. */
  async function stored(incoming: Incoming, id: string) {
    const state = await storageFor(incoming);
    if (!state.on) throw new NotFoundError(`no such response: responses are not stored: ${state.reason}`);
    const requestId = requestIdOf(id);
    const found = requestId == null ? null : await storage!.find(incoming.caller, requestId);
    if (found == null || requestId == null) throw new NotFoundError("no such response stored for this account");
    return { requestId, found };
  }

  return {
    async create(incoming: Incoming, bodyText: string) {
      const body = parseBody(ResponsesRequest, bodyText);
      const state = await storageFor(incoming);
      const previous = await previousHistory(incoming, state, body.previous_response_id);
      const { abort, ...context } = begin(incoming, body.model);
      // OpenAI stores by default; here only where the retention policy keeps payloads for the caller.
      const keep = state.on && body.store !== false ? state.decision : null;
      const meta = { requestId: context.requestId, createdAt: Math.floor(now() / 1000), stored: keep != null };
      const save = (response: Record<string, unknown>, generation: { text: string; toolCalls: ToolCall[] }) => {
        if (keep == null) return;
        const history = [...previous, ...historyOf(body), outputTurn(generation)];
        storage!.save(incoming.caller, keep, { requestId: context.requestId, model: body.model }, { response, inputItems: inputItemsJson(body, context.requestId), history });
      };
      // Resolves after admission: a 400/404/503 is still an ordinary JSON error here.
      const events = await engine.generate(responsesToGeneration(body, context, previous));
      if (body.stream) {
        const format = responseEventFormat(body, meta, save);
        return new Response(responseSseStream(events, format, abort, context.requestId), { headers: SSE_HEADERS });
      }
      const generation = await collectGeneration(events, context.requestId, context.signal);
      const response = finishedResponseJson(body, meta, generation);
      save(response, generation);
      return response;
    },

    retrieve: async (incoming: Incoming, id: string) => (await stored(incoming, id)).found.response,

    async remove(incoming: Incoming, id: string) {
      const { requestId } = await stored(incoming, id);
      await storage!.remove(incoming.caller, requestId);
      return { id: responseId(requestId), object: "response" as const, deleted: true };
    },

    async inputItems(incoming: Incoming, id: string, query: unknown) {
      const { limit, order, after } = parseInput(InputItemsQuery, query, "query");
      const items = (await stored(incoming, id)).found.inputItems;
      const ordered = order === "asc" ? items : [...items].reverse();
      const start = after == null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
      if (start === 0 && after != null) throw new InvalidRequestError("'after' names no input item of this response", { param: "after" });
      const data = ordered.slice(start, start + limit);
      return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < ordered.length };
    },
  };
}
