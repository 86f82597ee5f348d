import type { Config } from "../config/schema";

/** Cost of a request in millionths of the pricing currency, from `[pricing]`. */
export function createPricing(pricing: Config["pricing"]) {
  // Rebuilt when the price list is another one: a reloaded [pricing] applies to the next request.
  let models = pricing.models;
  let byModel = new Map(models.map((price) => [price.model, price]));
  return {
    get currency() {
      return pricing.currency;
    },
    /** `cachedTokens` are part of `promptTokens`; they cost cached_prompt_per_million where it is set. */
    costMicros(model: string | null, promptTokens: number, completionTokens: number, cachedTokens = 0): number {
      if (pricing.models !== models) {
        models = pricing.models;
        byModel = new Map(models.map((price) => [price.model, price]));
      }
      const price = (model != null ? byModel.get(model) : undefined) ?? pricing;
      const cachedPrice = price.cached_prompt_per_million ?? price.prompt_per_million;
      // price per 1M tokens x tokens / 1M = currency; x 1M = micros.
      return Math.round((promptTokens - cachedTokens) * price.prompt_per_million + cachedTokens * cachedPrice + completionTokens * price.completion_per_million);
    },
  };
}

export type Pricing = ReturnType<typeof createPricing>;
