import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { parseExposition } from "./exposition";

describe("exposition checker", () => {
  test("Should accept what prom-client writes, label escaping included", async () => {
    const registry = new Registry();
    new Counter({ name: "c_total", help: "h", labelNames: ["l"], registers: [registry] }).inc({ l: 'quote " backslash \\ newline \n' }, 2);
    new Histogram({ name: "h_seconds", help: "h", buckets: [0.1, 1], registers: [registry] }).observe(0.5);
    const { samples } = parseExposition(await registry.metrics());
    expect(samples.find((sample) => sample.name === "c_total")?.labels.l).toBe('quote " backslash \\ newline \n');
  });

  test.each([
    ["a sample with no value", "# TYPE x gauge\nx\n"],
    ["a value that is not a number", "# TYPE x gauge\nx one\n"],
    ["an unquoted label", "# TYPE x gauge\nx{a=b} 1\n"],
    ["a duplicate label", '# TYPE x gauge\nx{a="1",a="2"} 1\n'],
    ["a sample without a TYPE", "x 1\n"],
    ["a second TYPE line", "# TYPE x gauge\n# TYPE x counter\nx 1\n"],
    ["a bad metric name", "# TYPE 1x gauge\n1x 1\n"],
    ["a histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n'],
    ["a histogram whose buckets shrink", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n'],
    ["text without a final newline", "# TYPE x gauge\nx 1"],
  ])("Should reject %s", (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
