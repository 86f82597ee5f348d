import { expect, test } from "bun:test";
import { configSchema } from "../../../src/config/schema";
import { createPricing } from "../../../src/metering/pricing";

const pricingOf = (pricing: Record<string, unknown>) => createPricing(configSchema.parse({ pricing }).pricing);

test.each([
  { name: "Should price cached tokens at cached_prompt_per_million - the model's own price", pricing: { models: [{ model: "m", prompt_per_million: 2, completion_per_million: 4, cached_prompt_per_million: 0.5 }] }, expected: 60 * 2 + 40 * 0.5 + 10 * 4 },
  { name: "Should price cached tokens as prompt tokens - no cached price is set", pricing: { models: [{ model: "m", prompt_per_million: 2, completion_per_million: 4 }] }, expected: 100 * 2 + 10 * 4 },
  { name: "Should use the default cached price - a model without its own price", pricing: { prompt_per_million: 1, completion_per_million: 1, cached_prompt_per_million: 0 }, expected: 60 + 10 },
])("$name", ({ pricing, expected }) => {
  expect(pricingOf(pricing).costMicros("m", 100, 10, 40)).toBe(expected);
});
