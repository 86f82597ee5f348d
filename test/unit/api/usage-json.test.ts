import { describe, expect, test } from "bun:test";
import { usageJson as messagesUsage } from "../../../src/api/anthropic/translate";
import { usageJson as openAiUsage } from "../../../src/api/openai/translate";
import { responseUsageJson } from "../../../src/api/responses/translate";

const warm = { promptTokens: 100, completionTokens: 5, cachedTokens: 80 };
const uncached = { promptTokens: 100, completionTokens: 5 };

describe("cached prompt tokens on the wire", () => {
  test("Should report cached tokens inside prompt_tokens - OpenAI's prompt_tokens_details", () => {
    expect(openAiUsage(warm)).toEqual({ prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_tokens_details: { cached_tokens: 80 } });
  });

  test("Should leave prompt_tokens_details out - an engine without a prompt cache (an upstream, the fake) knows no count", () => {
    expect(openAiUsage(uncached)).toEqual({ prompt_tokens: 100, completion_tokens: 5, total_tokens: 105 });
  });

  test("Should report cached tokens inside input_tokens - the Responses API's input_tokens_details", () => {
    expect(responseUsageJson(warm)).toMatchObject({ input_tokens: 100, input_tokens_details: { cached_tokens: 80 }, total_tokens: 105 });
    expect(responseUsageJson(uncached).input_tokens_details).toEqual({ cached_tokens: 0 });
  });

  test("Should report cache reads beside input_tokens - Anthropic's prompt is input_tokens + cache_read_input_tokens", () => {
    expect(messagesUsage(warm)).toEqual({ input_tokens: 20, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 80 });
    expect(messagesUsage(uncached)).toEqual({ input_tokens: 100, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });
});
