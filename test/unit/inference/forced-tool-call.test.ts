import { describe, expect, test } from "bun:test";
import { forcedToolCall } from "../../../src/inference/forced-tool-call";

describe("forcedToolCall", () => {
  test("Should give the named tool its whole arguments - a finished forced call", () => {
    expect(forcedToolCall({ kind: "one", name: "lookup" }, '{ "q": 1 }', true, "call_1")).toEqual({ id: "call_1", name: "lookup", arguments: '{"q":1}' });
  });

  test("Should keep the cut arguments as written - max_tokens stopped the named call", () => {
    expect(forcedToolCall({ kind: "one", name: "lookup" }, ' {"q": "ab', false, "call_1")).toEqual({ id: "call_1", name: "lookup", arguments: '{"q": "ab' });
  });

  test("Should split the chosen name from the cut arguments - max_tokens stopped a call to any tool", () => {
    const output = '{"name": "get_weather", "arguments": {"city": "Os';
    expect(forcedToolCall({ kind: "any" }, output, false, "call_1")).toEqual({ id: "call_1", name: "get_weather", arguments: '{"city": "Os' });
  });

  test("Should give no call when the cut came before the tool's name was whole - nothing to name", () => {
    expect(forcedToolCall({ kind: "any" }, '{"name": "get_wea', false, "call_1")).toBeUndefined();
  });

  test("Should pick the name and arguments out of a finished call to any tool - the grammar's wrapper", () => {
    expect(forcedToolCall({ kind: "any" }, '{"name":"a","arguments":{"x":[1]}}', true, "call_1")).toEqual({ id: "call_1", name: "a", arguments: '{"x":[1]}' });
  });
});
