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
    expect(forcedToolCall({ kind: "any", names: ["get_weather", "get_time", "a"] }, output, false, "call_1")).toEqual({ id: "call_1", name: "get_weather", arguments: '{"city": "Os' });
  });

  test("Should name the tool a cut name can only be, with empty arguments - max_tokens stopped inside the name", () => {
    expect(forcedToolCall({ kind: "any", names: ["get_weather", "get_time", "a"] }, '{"name": "get_wea', false, "call_1")).toEqual({ id: "call_1", name: "get_weather", arguments: "" });
  });

  test("Should give no call when a cut name could still be several tools - nothing to name", () => {
    expect(forcedToolCall({ kind: "any", names: ["get_weather", "get_time"] }, '{"name": "get_', false, "call_1")).toBeUndefined();
    expect(forcedToolCall({ kind: "any", names: ["get_weather", "get_time"] }, "{", false, "call_1")).toBeUndefined();
  });

  test("Should keep a whole name whose arguments had not begun - max_tokens stopped between the keys", () => {
    expect(forcedToolCall({ kind: "any", names: ["get_weather", "get_time"] }, '{"name": "get_time", "argu', false, "call_1")).toEqual({ id: "call_1", name: "get_time", arguments: "" });
  });

  test("Should pick the name and arguments out of a finished call to any tool - the grammar's wrapper", () => {
    expect(forcedToolCall({ kind: "any", names: ["get_weather", "get_time", "a"] }, '{"name":"a","arguments":{"x":[1]}}', true, "call_1")).toEqual({ id: "call_1", name: "a", arguments: '{"x":[1]}' });
  });
});
