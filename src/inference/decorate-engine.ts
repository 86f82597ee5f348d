import type { Engine } from "./engine";

/**
 * An engine that forwards everything to `inner` except what `wrapped` replaces: a decorator names
 * only the capabilities it changes, so a new capability is one new forward here.
 */
export function decorateEngine(inner: Engine, wrapped: Partial<Pick<Engine, "start" | "generate" | "embed" | "countTokens">>): Engine {
  return {
    start: () => inner.start(),
    isReady: () => inner.isReady(),
    models: () => inner.models(),
    generate: (request) => inner.generate(request),
    embed: (request) => inner.embed(request),
    countTokens: (request) => inner.countTokens(request),
    promptCache: inner.promptCache,
    [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
    ...wrapped,
  };
}
