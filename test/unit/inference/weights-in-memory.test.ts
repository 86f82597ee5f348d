import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { availableMemoryBytes, useMmapFor } from "../../../src/inference/weights-in-memory";

let dir: string;
let target: string;
let draft: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "enclave-weights-"));
  target = join(dir, "target.gguf");
  draft = join(dir, "draft.gguf");
  writeFileSync(target, new Uint8Array(800));
  writeFileSync(draft, new Uint8Array(200));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = (mmap: "auto" | "on" | "off", gpuLayers: "auto" | "max" | number = "auto", withDraft = false) => ({
  mmap,
  gpu_layers: gpuLayers,
  path: target,
  draft: withDraft ? { path: draft } : undefined,
});

describe("useMmapFor", () => {
  test("Should do as told when the setting is on or off - whatever the device and memory", () => {
    expect(useMmapFor(model("on"), false, () => 0)).toBe(true);
    expect(useMmapFor(model("off"), true, () => 0)).toBe(false);
  });

  test("Should read the weights on the CPU alone when they fit with a fifth to spare", () => {
    expect(useMmapFor(model("auto"), false, () => 1001)).toBe(false);
    expect(useMmapFor(model("auto"), false, () => 1000)).toBe("auto");
  });

  test("Should count the draft's weights with the target's - both are read", () => {
    expect(useMmapFor(model("auto", "auto", true), false, () => 1251)).toBe(false);
    expect(useMmapFor(model("auto", "auto", true), false, () => 1250)).toBe("auto");
  });

  test("Should leave the choice to node-llama-cpp on a GPU - reading the file can fit more layers there", () => {
    expect(useMmapFor(model("auto"), true, () => 1e12)).toBe("auto");
    expect(useMmapFor(model("auto", "max"), true, () => 1e12)).toBe("auto");
  });

  test("Should leave a file it cannot read to the load - which fails with node-llama-cpp's own error", () => {
    expect(useMmapFor({ ...model("auto"), path: join(dir, "missing.gguf") }, false, () => 1e12)).toBe("auto");
  });

  test("Should treat gpu_layers = 0 on a GPU build as the CPU alone", () => {
    expect(useMmapFor(model("auto", 0), true, () => 1e12)).toBe(false);
  });
});

describe("availableMemoryBytes", () => {
  test("Should give what a cgroup's limit leaves the process when that is less than the system's free memory - a container or a systemd MemoryMax", () => {
    using limit = spyOn(process, "constrainedMemory").mockReturnValue(process.memoryUsage.rss() + 1_000_000);
    expect(availableMemoryBytes()).toBeLessThanOrEqual(1_000_000);
    expect(limit).toHaveBeenCalled();
  });

  test("Should give the system's free memory without a limit", () => {
    using _ = spyOn(process, "constrainedMemory").mockReturnValue(0);
    expect(availableMemoryBytes()).toBeGreaterThan(1_000_000);
  });
});
