import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FORGE_VERSION, forgeManifestSchema } from "../../../src/forge/forge-manifest";
import { ForgeOptionsError, presets, resolveForgeOptions } from "../../../src/forge/forge-options";
import { forgePair } from "../../../src/forge/forge-pair";

const root = mkdtempSync(join(tmpdir(), "enclave-forge-pair-"));
let dirs = 0;
const freshDir = () => join(root, `out-${dirs++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

describe("forgePair", () => {
  test("Should forge byte-identical files from the same options", async () => {
    const [a, b] = [freshDir(), freshDir()];
    await forgePair(presets.tiny, a);
    await forgePair(presets.tiny, b);
    for (const file of ["tiny-target.gguf", "tiny-draft.gguf", "tiny.manifest.json"]) {
      expect(Buffer.compare(readFileSync(join(a, file)), readFileSync(join(b, file)))).toBe(0);
    }
  });

  // Changing these means every forged model changed: bump FORGE_VERSION with them.
  test("Should forge the pinned tiny pair for this forge version", async () => {
    const dir = freshDir();
    const manifest = await forgePair(presets.tiny, dir);
    expect(FORGE_VERSION).toBe(1);
    expect({ target: sha256(join(dir, "tiny-target.gguf")), draft: sha256(join(dir, "tiny-draft.gguf")) }).toEqual({
      target: "83cf4d4082225ab614f44c72e16238e29d23b5f407f86667c6b83841b7f83bfd",
      draft: "56bceb2647d745db578ded9cc53cfb22607d0456955a0c350db8b3fde043d98d",
    });
    expect(manifest.target.sha256).toBe(sha256(join(dir, "tiny-target.gguf")));
    expect(manifest.draft.sha256).toBe(sha256(join(dir, "tiny-draft.gguf")));
  });

  test("Should write a manifest that validates and describes the pair", async () => {
    const dir = freshDir();
    const returned = await forgePair(presets.tiny, dir);
    const manifest = forgeManifestSchema.parse(JSON.parse(readFileSync(join(dir, "tiny.manifest.json"), "utf8")));
    expect(manifest).toEqual(returned);
    expect(manifest.options).toEqual(presets.tiny);
    expect(manifest.target).toMatchObject({ file: "tiny-target.gguf", bytes: statSync(join(dir, "tiny-target.gguf")).size, layers: 2 });
    expect(manifest.draft).toMatchObject({ file: "tiny-draft.gguf", bytes: statSync(join(dir, "tiny-draft.gguf")).size, layers: 1 });
    expect(manifest.completion.target).toStartWith("bcdefghijklmnopqrstuvwxyz abc");
    expect(manifest.chat.target).toBe("ABCDEFGHIJKLMNOPQRSTUVWXYZ.");
    // tiny disagrees on 20%: round(0.2 x 27) of the lowercase cycle, and so on.
    expect(manifest.draftDisagreements.filter((d) => /^[a-z\u2581]$/.test(d.token))).toHaveLength(5);
  });

  test("Should return the cached pair without rewriting it - same version and options", async () => {
    const dir = freshDir();
    const first = await forgePair(presets.tiny, dir);
    const before = statSync(join(dir, "tiny-target.gguf"), { bigint: true });
    const progress: number[] = [];
    const second = await forgePair(presets.tiny, dir, (done) => progress.push(done));
    expect(second).toEqual(first);
    expect(progress).toEqual([]);
    const after = statSync(join(dir, "tiny-target.gguf"), { bigint: true });
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs]);
  });

  test("Should forge again when the options change", async () => {
    const dir = freshDir();
    const first = await forgePair(presets.tiny, dir);
    const second = await forgePair({ ...presets.tiny, seed: 99 }, dir);
    expect(second.optionsHash).not.toBe(first.optionsHash);
    expect(second.target.sha256).not.toBe(first.target.sha256);
    expect(sha256(join(dir, "tiny-target.gguf"))).toBe(second.target.sha256);
  });

  test("Should forge again when a model file lost bytes", async () => {
    const dir = freshDir();
    const first = await forgePair(presets.tiny, dir);
    await Bun.write(join(dir, "tiny-draft.gguf"), "truncated");
    await forgePair(presets.tiny, dir);
    expect(sha256(join(dir, "tiny-draft.gguf"))).toBe(first.draft.sha256);
  });

  test("Should report progress up to the total size of both files", async () => {
    const calls: [number, number][] = [];
    const manifest = await forgePair(presets.tiny, freshDir(), (done, total) => calls.push([done, total]));
    const total = manifest.target.bytes + manifest.draft.bytes;
    expect(calls[0]).toEqual([0, total]);
    expect(calls.at(-1)).toEqual([total, total]);
  });

  test("Should leave no file behind - when forging fails halfway", async () => {
    const dir = freshDir();
    const failing = forgePair(presets.tiny, dir, (done, total) => {
      if (done > total / 2) throw new Error("disk full");
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("Should write nothing - when the options are invalid", async () => {
    const dir = freshDir();
    await expect(forgePair({ ...presets.tiny, heads: 5, kvHeads: 1 }, dir)).rejects.toBeInstanceOf(ForgeOptionsError);
    expect(() => readdirSync(dir)).toThrow();
  });

  test("Should name the files after the preset option", async () => {
    const dir = freshDir();
    await forgePair(resolveForgeOptions("tiny", { preset: "tiny-f16", tensorType: "f16" }), dir);
    expect(readdirSync(dir).sort()).toEqual(["tiny-f16-draft.gguf", "tiny-f16-target.gguf", "tiny-f16.manifest.json"]);
  });
});
