import type { Config } from "../config/schema";

/** Cost of a request in millionths of the pricing currency, from `[pricing]`. */
export function createPricing(pricing: Config["pricing"]) {
  const byModel = new Map(pricing.models.map((price) => [price.model, price]));
  return {
    currency: pricing.currency,
    costMicros(model: string | null, promptTokens: number, completionTokens: number): number {
      const price = (model != null ? byModel.get(model) : undefined) ?? pricing;
      // price per 1M tokens x tokens / 1M = currency; x 1M = micros.
      return Math.round(promptTokens * price.prompt_per_million + completionTokens * price.completion_per_million);
    },
  };
}

export type Pricing = ReturnType<typeof createPricing>;
