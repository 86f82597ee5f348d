import { describe, expect, test } from "bun:test";
import { createLiveConfig } from "../../../src/config/live-config";
import { configSchema } from "../../../src/config/schema";
import { createPricing } from "../../../src/metering/pricing";

describe("createLiveConfig", () => {
  test("Should return the replaced config's values through a section held since before - so a service follows a reload", () => {
    const live = createLiveConfig(configSchema.parse({ limits: { rpm: 5 } }));
    const limits = live.view.limits;
    live.replace(configSchema.parse({ limits: { rpm: 7 } }));
    expect(limits.rpm).toBe(7);
    expect(live.view.limits.rpm).toBe(7);
    expect({ ...limits }).toEqual(configSchema.parse({ limits: { rpm: 7 } }).limits);
    expect(Object.keys(live.view)).toEqual(Object.keys(live.current()));
  });

  test("Should refuse writes through the view - the running config changes only by replace()", () => {
    const live = createLiveConfig(configSchema.parse({}));
    expect(() => {
      (live.view.limits as { rpm: number }).rpm = 9;
    }).toThrow(TypeError);
    expect(live.current().limits.rpm).toBe(0);
  });

  test("Should price with a reloaded per-model price list - pricing built once over the live section", () => {
    const price = (prompt: number) => ({ pricing: { models: [{ model: "m", prompt_per_million: prompt, completion_per_million: 0 }] } });
    const live = createLiveConfig(configSchema.parse(price(1)));
    const pricing = createPricing(live.view.pricing);
    expect(pricing.costMicros("m", 10, 0)).toBe(10);
    live.replace(configSchema.parse(price(3)));
    expect(pricing.costMicros("m", 10, 0)).toBe(30);
  });
});
