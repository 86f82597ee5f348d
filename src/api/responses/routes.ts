import { Elysia } from "elysia";
import type { Caller } from "../../caller/caller";
import type { CallerGate } from "../gate/caller-gate";
import type { Incoming } from "../openai/service";
import { createResponsesService, type ResponsesDeps } from "./service";

/** With `parse: "text"` Elysia hands over the body as a string; an absent body is "". */
const text = (body: unknown) => (typeof body === "string" ? body : "");

const incoming = ({ request, caller, set }: { request: Request; caller: Caller; set: { headers: Record<string, unknown> } }): Incoming => {
  const id = set.headers["x-request-id"];
  return { request, caller, ...(typeof id === "string" && { requestId: id }) };
};

/**
 * OpenAI's Responses API under `/v1`, behind the same `gate` as the chat routes (keys, limits,
 * metering, the caller). Bodies are read as text and validated by the service, as the chat routes
 * do, so a bad body is a 400 naming the parameter whatever the Content-Type.
 */
export function createResponsesRoutes(deps: ResponsesDeps & { gate: CallerGate }) {
  const service = createResponsesService(deps);
  return new Elysia({ prefix: "/v1" })
    .use(deps.gate)
    .post("/responses", (context) => service.create(incoming(context), text(context.body)), { parse: "text" })
    .get("/responses/:id", (context) => service.retrieve(incoming(context), context.params.id))
    .delete("/responses/:id", (context) => service.remove(incoming(context), context.params.id))
    .get("/responses/:id/input_items", (context) => service.inputItems(incoming(context), context.params.id, context.query));
}
