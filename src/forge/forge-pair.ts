import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { expectedChatReply, expectedGreedyText } from "./expected-greedy-text";
import { type ForgedFile, FORGE_VERSION, type ForgeManifest, forgeManifestSchema } from "./forge-manifest";
import { type ForgeOptions, validateForgeOptions } from "./forge-options";
import { forgedFileName } from "./forged-file-name";
import { forgeVocab } from "./forge-vocab";
import { CHAT_TEMPLATE, forgedModel } from "./forged-model";
import { SUCCESSOR_RULE, type ForgedModel, successorTable } from "./successor-rule";
import { forgedGgufSize, writeForgedGguf } from "./write-forged-gguf";

const EXAMPLE_TOKENS = 64;

/**
 * Forges `<preset>-target.gguf`, `<preset>-draft.gguf` and `<preset>.manifest.json` into
 * `outDir`, or returns the existing manifest when it was forged from the same forge version
 * and options and both files still have their sizes. Files are written under temporary names
 * and renamed at the end, so a failure leaves no partial file; the same options always give
 * byte-identical files.
 */
export async function forgePair(
  options: ForgeOptions,
  outDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<ForgeManifest> {
  const valid = validateForgeOptions(options);
  const hash = optionsHash(valid);
  const manifestPath = join(outDir, `${valid.preset}.manifest.json`);
  const cached = await readCachedManifest(outDir, manifestPath, hash);
  if (cached) return cached;

  await mkdir(outDir, { recursive: true });
  const models = (["target", "draft"] as const).map((which) => {
    const layout = forgedModel(valid, which);
    return { which, layout, file: forgedFileName(valid.preset, which), bytes: forgedGgufSize(layout) };
  });
  const total = models.reduce((sum, model) => sum + model.bytes, 0);
  let done = 0;
  onProgress?.(done, total);

  const renames: [from: string, to: string][] = [];
  const temporary = (file: string) => {
    const path = join(outDir, `.${file}.${process.pid}.${crypto.randomUUID()}.tmp`);
    renames.push([path, join(outDir, file)]);
    return path;
  };
  try {
    const files: Partial<Record<ForgedModel, ForgedFile>> = {};
    for (const { which, layout, file, bytes } of models) {
      const handle = await open(temporary(file), "w");
      try {
        const sha256 = await writeForgedGguf(layout, valid.seed, handle, (written) => {
          done += written;
          onProgress?.(done, total);
        });
        files[which] = {
          file,
          bytes,
          sha256,
          parameters: layout.parameters,
          layers: which === "target" ? valid.layers : valid.draftLayers,
          ffnSize: which === "target" ? valid.ffnSize : valid.draftFfnSize,
        };
      } finally {
        await handle.close();
      }
    }

    const manifest = describePair(valid, hash, files.target!, files.draft!);
    await Bun.write(temporary(`${valid.preset}.manifest.json`), `${JSON.stringify(manifest, null, "\t")}\n`);
    // A stale manifest must not vouch for new model files if a rename below fails.
    await rm(manifestPath, { force: true });
    for (const [from, to] of renames) await rename(from, to);
    return manifest;
  } catch (error) {
    await Promise.all(renames.map(([from]) => rm(from, { force: true })));
    throw error;
  }
}

/** The cache key: sha256 over the forge version and the options with sorted keys. */
export function optionsHash(options: ForgeOptions): string {
  const entries = Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1));
  return new Bun.CryptoHasher("sha256").update(JSON.stringify([FORGE_VERSION, entries])).digest("hex");
}

async function readCachedManifest(outDir: string, manifestPath: string, hash: string): Promise<ForgeManifest | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(manifestPath, "utf8"));
  } catch {
    return undefined;
  }
  const parsed = forgeManifestSchema.safeParse(json);
  if (!parsed.success || parsed.data.optionsHash !== hash) return undefined;
  for (const forged of [parsed.data.target, parsed.data.draft]) {
    const size = await stat(join(outDir, forged.file)).then((s) => s.size, () => -1);
    if (size !== forged.bytes) return undefined;
  }
  return parsed.data;
}

function describePair(options: ForgeOptions, hash: string, target: ForgedFile, draft: ForgedFile): ForgeManifest {
  const { pieces } = forgeVocab(options.vocabSize);
  const targetNext = successorTable(options, "target");
  const draftNext = successorTable(options, "draft");
  const draftDisagreements: ForgeManifest["draftDisagreements"] = [];
  targetNext.forEach((next, token) => {
    if (draftNext[token] !== next) {
      draftDisagreements.push({ token: pieces[token]!, target: pieces[next]!, draft: pieces[draftNext[token]!]! });
    }
  });
  const prompt = "a";
  return {
    forgeVersion: FORGE_VERSION,
    optionsHash: hash,
    options,
    target,
    draft,
    rule: SUCCESSOR_RULE,
    completion: {
      prompt,
      maxTokens: EXAMPLE_TOKENS,
      target: expectedGreedyText(prompt, EXAMPLE_TOKENS, options, "target"),
      draft: expectedGreedyText(prompt, EXAMPLE_TOKENS, options, "draft"),
    },
    chat: {
      prompt: "<|im_start|>assistant\n",
      maxTokens: EXAMPLE_TOKENS,
      template: CHAT_TEMPLATE,
      target: expectedChatReply(options, "target", EXAMPLE_TOKENS),
      draft: expectedChatReply(options, "draft", EXAMPLE_TOKENS),
    },
    draftDisagreements,
  };
}
