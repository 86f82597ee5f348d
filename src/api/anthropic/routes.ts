import { Elysia } from "elysia";
import type { Caller } from "../../caller/caller";
import type { CallerGate } from "../gate/caller-gate";
import type { Incoming } from "../openai/service";
import { createAnthropicService, type AnthropicDeps } from "./service";

/** With `parse: "text"` Elysia hands over the body as a string; an absent body is "". */
const text = (body: unknown) => (typeof body === "string" ? body : "");

/** The request and its caller; the app's request id is also sent as `request-id`, which Anthropic's SDKs read. */
const incoming = ({ request, caller, set }: { request: Request; caller: Caller; set: { headers: Record<string, unknown> } }): Incoming => {
  const id = set.headers["x-request-id"];
  if (typeof id !== "string") return { request, caller };
  set.headers["request-id"] = id;
  return { request, caller, requestId: id };
};

/**
 * The Anthropic-compatible Messages API under `/v1`, behind the same `gate` as the OpenAI routes
 * (keys by `x-api-key` or bearer, limits, metering). `anthropic-version` is accepted whatever it
 * says and `anthropic-beta` ignored: there is one version of this surface. Errors on these paths
 * are answered in Anthropic's shape by the app's error handler (src/api/app.ts).
 */
export function createAnthropicRoutes(deps: AnthropicDeps & { gate: CallerGate }) {
  const service = createAnthropicService(deps);
  return new Elysia({ prefix: "/v1" })
    .use(deps.gate)
    .post("/messages", (context) => service.messages(incoming(context), text(context.body)), { parse: "text" })
    .post("/messages/count_tokens", (context) => service.countTokens(incoming(context), text(context.body)), { parse: "text" });
}
