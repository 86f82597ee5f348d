import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { parseBody } from "../../../../src/api/openai/parse-body";
import { formatParam } from "../../../../src/validation/format-param";
import { InvalidRequestError } from "../../../../src/errors";

describe("formatParam", () => {
  const cases: [PropertyKey[], string][] = [
    [["model"], "model"],
    [["messages", 0, "content"], "messages[0].content"],
    [["messages", 2, "content", 1, "type"], "messages[2].content[1].type"],
    [["logit_bias", "42"], "logit_bias.42"],
    [[], ""],
  ];
  for (const [path, expected] of cases) test(`Should write ${JSON.stringify(path)} as '${expected}'`, () => expect(formatParam(path)).toBe(expected));
});

describe("parseBody", () => {
  const schema = z.object({ a: z.union([z.string(), z.array(z.object({ b: z.number() }))]), c: z.number().optional() });
  const fail = (text: string) => {
    try {
      parseBody(schema, text);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      return error as InvalidRequestError;
    }
    throw new Error("expected a failure");
  };

  test("Should return the schema's output for a valid body", () => {
    expect(parseBody(schema, '{"a":"x","extra":1}')).toEqual({ a: "x" });
  });

  test("Should report a union failure at the branch the client meant - the nested field", () => {
    const error = fail('{"a":[{"b":"secret"}]}');
    expect(error.param).toBe("a[0].b");
    expect(error.code).toBe("invalid_type");
    expect(error.message).toBe("invalid type for 'a[0].b': expected number, got string");
  });

  test("Should report a union failure at the union - when no branch had the right shape", () => {
    const error = fail('{"a":true}');
    expect(error.param).toBe("a");
    expect(error.message).toBe("invalid type for 'a': got boolean");
  });

  test("Should say a parameter is missing - not that it has the wrong type", () => {
    const error = fail("{}");
    expect(error).toMatchObject({ param: "a", code: "missing_required_parameter", message: "missing required parameter 'a'" });
  });

  test("Should never quote the value - only its type", () => {
    const error = fail('{"a":"x","c":"my secret prompt"}');
    expect(error.message).not.toContain("secret");
    expect(error.param).toBe("c");
  });

  test("Should refuse malformed JSON without quoting the parser's message", () => {
    const error = fail('{"a": secret');
    expect(error).toMatchObject({ param: null, code: "invalid_json", message: "request body is not valid JSON" });
  });
});
