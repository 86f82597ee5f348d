import { z } from "zod";
import type { ApiOperation, ApiOperations } from "./api-operation";

/** What the builder needs of each route: Elysia's `app.routes` entries. */
export interface RouteEntry {
  method: string;
  path: string;
  hooks?: { detail?: { summary?: string; hide?: boolean } };
}

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

type JsonSchema = Record<string, unknown>;

const OpenAiError = z
  .strictObject({ error: z.strictObject({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }) })
  .meta({ id: "Error", description: "Every error outside the Anthropic paths; `code` is stable, `message` is for people" });
const AnthropicError = z
  .strictObject({ type: z.literal("error"), error: z.strictObject({ type: z.string(), message: z.string() }) })
  .meta({ id: "AnthropicError", description: "Errors on /v1/messages, in Anthropic's shape" });

/**
 * The OpenAPI 3.1 document of the routes the app serves: every route in `routes` (hidden ones
 * aside) becomes an operation, with the query, body and answer schemas `operations` gives it,
 * converted from zod (request schemas as their input side: what a client sends). A route with no
 * entry is still listed, with no schemas: the document test names it.
 */
export function openApiDocument(routes: RouteEntry[], operations: ApiOperations, info: DocumentInfo) {
  const components: Record<string, JsonSchema> = {};
  const convert = (schema: z.ZodType, io: "input" | "output"): JsonSchema => {
    const { $schema: _, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any", reused: "inline" }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    return hoistDefs(json, components);
  };
  const errorRef = (path: string) => {
    const schema = path.startsWith("/v1/messages") ? AnthropicError : OpenAiError;
    return convert(schema, "output");
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.hooks?.detail?.hide === true || route.method === "ALL") continue;
    const operation = operations[`${route.method} ${route.path}`];
    const openApiPath = route.path.replace(/:(\w+)/g, "{$1}");
    const method = route.method.toLowerCase();
    const guarded = route.path.startsWith("/v1") || route.path.startsWith("/admin");
    paths[openApiPath] ??= {};
    paths[openApiPath][method] = {
      operationId: operationId(route),
      summary: operation?.summary ?? route.hooks?.detail?.summary ?? `${route.method} ${route.path}`,
      ...(operation != null && { tags: [operation.tag] }),
      ...(guarded && { security: route.path.startsWith("/v1/messages") ? [{ bearer: [] }, { apiKey: [] }] : [{ bearer: [] }] }),
      parameters: [...pathParameters(route.path), ...(operation?.query != null ? queryParameters(convert(operation.query, "input")) : [])],
      ...(operation?.body != null && { requestBody: { required: true, content: { "application/json": { schema: convert(operation.body, "input") } } } }),
      responses: {
        ...(operation != null ? successResponse(operation, convert(operation.response, "output")) : { "200": { description: "OK" } }),
        ...(guarded && { default: { description: "Error", content: { "application/json": { schema: errorRef(route.path) } } } }),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An Enclave API key (enk_...); /admin needs an admin or manager key" },
        apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "The same key, as Anthropic's SDKs send it" },
      },
    },
  };
}

function successResponse(operation: ApiOperation, schema: JsonSchema) {
  const content: Record<string, unknown> = { "application/json": { schema } };
  if (operation.streams) content["text/event-stream"] = { schema: { type: "string", description: "server-sent events, with `stream: true`" } };
  return { [String(operation.status ?? 200)]: { description: "OK", content } };
}

function pathParameters(path: string) {
  return [...path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: "path", required: true, schema: { type: "string" } }));
}

function queryParameters(schema: JsonSchema) {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: "query",
    required: required.has(name),
    ...(typeof property.description === "string" && { description: property.description }),
    schema: property,
  }));
}

/** Named schemas (zod `.meta({ id })`) move to components and are referenced from where they were. */
function hoistDefs(json: JsonSchema & { $defs?: Record<string, JsonSchema> }, components: Record<string, JsonSchema>): JsonSchema {
  const { $defs, ...rest } = json;
  for (const [name, def] of Object.entries($defs ?? {})) components[name] ??= def;
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/'));
}

/** e.g. POST /admin/accounts/:id/credits -> postAdminAccountsIdCredits. */
function operationId(route: RouteEntry): string {
  const words = route.path.split(/[/:_.-]+/).filter((word) => word !== "");
  return route.method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
}
