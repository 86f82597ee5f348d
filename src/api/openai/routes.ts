import { Elysia } from "elysia";
import type { Caller } from "../../caller/caller";
import type { CallerGate } from "../gate/caller-gate";
import { createOpenAiService, type Incoming, type OpenAiDeps } from "./service";

/** With `parse: "text"` Elysia hands over the body as a string; an absent body is "". */
const text = (body: unknown) => (typeof body === "string" ? body : "");

/** The request, its caller, and the id the app shell gave it (its `x-request-id` response header), if any. */
const incoming = ({ request, caller, set }: { request: Request; caller: Caller; set: { headers: Record<string, unknown> } }): Incoming => {
  const id = set.headers["x-request-id"];
  return { request, caller, ...(typeof id === "string" && { requestId: id }) };
};

/**
 * The OpenAI-compatible API under `/v1`, behind `gate` (which resolves the caller). Routes only
 * hand the request and its caller to the service.
 *
 * Bodies are read as text (`parse: "text"`) and validated by the service whatever the
 * Content-Type, as OpenAI does: malformed JSON and schema failures become InvalidRequestError
 * naming the parameter, so these routes never raise Elysia's PARSE or VALIDATION errors.
 */
export function createOpenAiRoutes(deps: OpenAiDeps & { gate: CallerGate }) {
  const service = createOpenAiService(deps);
  return new Elysia({ prefix: "/v1" })
    .use(deps.gate)
    .get("/models", (context) => service.listModels(incoming(context)))
    .get("/models/:id", (context) => service.getModel(incoming(context), context.params.id))
    .post("/chat/completions", (context) => service.chatCompletions(incoming(context), text(context.body)), { parse: "text" })
    .post("/completions", (context) => service.completions(incoming(context), text(context.body)), { parse: "text" })
    .post("/embeddings", (context) => service.embeddings(incoming(context), text(context.body)), { parse: "text" });
}
