import type { z } from "zod";

/**
 * What the OpenAPI document says about one route beyond its method and path: the zod schemas of
 * its query, body and success answer. Request schemas are the ones the services validate with;
 * answer schemas describe what the views return (`loose`, so a field added to a view is not a
 * break). The route's own `detail.summary` is used when `summary` is absent.
 */
export interface ApiOperation {
  tag: string;
  summary?: string;
  query?: z.ZodType;
  body?: z.ZodType;
  response: z.ZodType;
  /** The success status; default 200. */
  status?: number;
  /** With `stream: true` in the body the answer is `text/event-stream` instead. */
  streams?: boolean;
}

/** Operations keyed "METHOD /path" with Elysia's `:param` segments, as `app.routes` lists them. */
export type ApiOperations = Record<string, ApiOperation>;
