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
    costMicros(model: string | null, promptTokens: number, completionTokens: number): number {
      if (pricing.models !== models) {
        models = pricing.models;
        byModel = new Map(models.map((price) => [price.model, price]));
      }
      const price = (model != null ? byModel.get(model) : undefined) ?? pricing;
      // price per 1M tokens x tokens / 1M = currency; x 1M = micros.
      return Math.round(promptTokens * price.prompt_per_million + completionTokens * price.completion_per_million);
    },
  };
}

export type Pricing = ReturnType<typeof createPricing>;
