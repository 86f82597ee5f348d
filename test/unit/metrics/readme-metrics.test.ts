import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configSchema } from "../../../src/config/schema";
import { createMetrics } from "../../../src/metrics/metrics-registry";

const readme = readFileSync(join(import.meta.dir, "../../../README.md"), "utf8");
/** Every metric name the README shows in backticks, with any label selector cut off. */
const documented = [...new Set([...readme.matchAll(/`((?:enclave|process)_[a-z0-9_]+)/g)].map((match) => match[1]!))];

describe("README metrics", () => {
  test("Should find the metrics list in the README - so the check below cannot pass on nothing", () => {
    expect(documented.length).toBeGreaterThan(30);
    expect(documented).toContain("enclave_audit_chain_length");
  });

  test("Should register every metric the README documents - a documented series that never appears misleads a dashboard", async () => {
    // The widest registry: key labels on, and a GPU runtime attached (VRAM series exist only then).
    const metrics = createMetrics({ config: configSchema.parse({ metrics: { key_labels: true } }), version: "0" });
    metrics.setRuntime({ llamaCppRelease: "b0", gpuBackend: "cuda", vramState: async () => ({ used: 1, total: 2 }) });
    const registered = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    expect(documented.filter((name) => !registered.has(name))).toEqual([]);
  });
});
