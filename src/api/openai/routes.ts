import { Elysia } from "elysia";
import { createOpenAiService, type Incoming, type OpenAiDeps } from "./service";

/** With `parse: "text"` Elysia hands over the body as a string; an absent body is "". */
const text = (body: unknown) => (typeof body === "string" ? body : "");

/** The request and the id the app shell gave it (its `x-request-id` response header), if any. */
const incoming = (request: Request, headers: Record<string, unknown>): Incoming => {
  const id = headers["x-request-id"];
  return { request, ...(typeof id === "string" && { requestId: id }) };
};

/**
 * The OpenAI-compatible API under `/v1`. Routes only hand the request to the service.
 *
 * Bodies are read as text (`parse: "text"`) and validated by the service whatever the
 * Content-Type, as OpenAI does: malformed JSON and schema failures become InvalidRequestError
 * naming the parameter, so these routes never raise Elysia's PARSE or VALIDATION errors.
 */
export function createOpenAiRoutes(deps: OpenAiDeps) {
  const service = createOpenAiService(deps);
  return new Elysia({ prefix: "/v1" })
    .get("/models", ({ request, set }) => service.listModels(incoming(request, set.headers)))
    .get("/models/:id", ({ request, params, set }) => service.getModel(incoming(request, set.headers), params.id))
    .post("/chat/completions", ({ request, body, set }) => service.chatCompletions(incoming(request, set.headers), text(body)), {
      parse: "text",
    })
    .post("/completions", ({ request, body, set }) => service.completions(incoming(request, set.headers), text(body)), {
      parse: "text",
    })
    .post("/embeddings", ({ request, body, set }) => service.embeddings(incoming(request, set.headers), text(body)), {
      parse: "text",
    });
}
