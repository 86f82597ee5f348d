import { describe, expect, test } from "bun:test";
import { UpstreamRejectedError } from "../../../src/upstreams/upstream-errors";

describe("UpstreamRejectedError", () => {
  test("Should keep an upstream's code only where it is one of Enclave's - metadata holds only codes Enclave knows", () => {
    expect(new UpstreamRejectedError("vllm", 400, { code: "context_length_exceeded" }).code).toBe("context_length_exceeded");
    expect(new UpstreamRejectedError("vllm", 400, { code: "whatever_the_upstream_says" }).code).toBe("upstream_rejected");
    expect(new UpstreamRejectedError("vllm", 400).code).toBe("upstream_rejected");
  });
});
