import { describe, expect, test } from "bun:test";
import { repeatPenalty } from "../../../src/inference/llama-engine";

describe("repeatPenalty (what node-llama-cpp is given)", () => {
  const none = { presencePenalty: 0, frequencyPenalty: 0 };
  const cases: [string, Parameters<typeof repeatPenalty>[0], ReturnType<typeof repeatPenalty>][] = [
    ["nothing set: no penalty at all, not node-llama-cpp's 1.1", none, false],
    ["repeat_penalty 1 is llama.cpp's off", { ...none, repeatPenalty: 1 }, false],
    ["repeat_penalty alone", { ...none, repeatPenalty: 1.15 }, { penalty: 1.15, presencePenalty: 0, frequencyPenalty: 0 }],
    ["OpenAI's penalties alone keep penalty 1", { presencePenalty: 0.5, frequencyPenalty: 0.25 }, { penalty: 1, presencePenalty: 0.5, frequencyPenalty: 0.25 }],
    ["both kinds together", { presencePenalty: 0.5, frequencyPenalty: 0, repeatPenalty: 1.2 }, { penalty: 1.2, presencePenalty: 0.5, frequencyPenalty: 0 }],
  ];
  for (const [name, sampling, expected] of cases) test(`Should give ${JSON.stringify(expected)} - ${name}`, () => expect(repeatPenalty(sampling)).toEqual(expected));
});
