import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig } from "../../../src/config/load";
import { resolveConfigPaths } from "../../../src/config/resolve-config-paths";
import { configSchema } from "../../../src/config/schema";
import { settings } from "../../../src/config/settings";

const shippedPath = join(import.meta.dir, "../../../config/enclave.toml");

describe("config/enclave.toml", () => {
  test("Should be valid and equal the built-in defaults - it only documents them", () => {
    const { config } = loadConfig({ path: shippedPath, env: {} });
    expect(config).toEqual(resolveConfigPaths(configSchema.parse({}), { file: dirname(shippedPath), env: process.cwd() }, new Map()));
  });

  test("Should document every setting - a new setting needs its comment there", () => {
    const text = readFileSync(shippedPath, "utf8");
    for (const setting of settings.filter((setting) => setting.env != null)) expect(text).toContain(`${setting.path.at(-1)} =`);
    const modelShape = configSchema.def.shape.models.unwrap().element.shape;
    const { draft, ...modelKeys } = modelShape;
    for (const key of Object.keys(modelKeys)) expect(text).toContain(`# ${key} =`);
    expect(text).toContain("# [models.draft]");
    for (const key of Object.keys(draft.unwrap().shape)) expect(text).toContain(`# ${key} =`);
  });
});
