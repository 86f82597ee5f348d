import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { configSchema } from "../../../src/config/schema";
import { resolveModels } from "../../../src/serve/resolve-models";

describe("resolveModels", () => {
  test("Should finish the progress bar before its log line - the two never share a terminal line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "enclave-resolve-"));
    try {
      const order: string[] = [];
      const logger = pino({ level: "info" }, { write: () => void order.push("log") });
      const progress = { update: () => void (order.at(-1) !== "bar" && order.push("bar")), finish: () => void order.push("finish") };
      const config = await resolveModels(configSchema.parse({ storage: { data_dir: dir } }), logger, progress);
      expect(config.models.map((model) => model.id)).toEqual(["demo"]);
      expect(order).toEqual(["bar", "finish", "log"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Forges the 28 MB demo pair: seconds on a loaded machine.
  }, 20_000);
});
