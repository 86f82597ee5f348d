import { z } from "zod";
import { forgeOptionsSchema } from "./forge-options";

/** Bump whenever the bytes forged from the same options change; it invalidates every cache. */
export const FORGE_VERSION = 1;

const forgedFileSchema = z.object({
  file: z.string().describe("file name inside the manifest's directory"),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  parameters: z.number().int().positive(),
  layers: z.number().int().positive(),
  ffnSize: z.number().int().positive(),
});

const expectationSchema = z.object({
  prompt: z.string(),
  maxTokens: z.number().int().positive(),
  target: z.string().describe("greedy output of the target"),
  draft: z.string().describe("greedy output of the draft alone"),
});

export const forgeManifestSchema = z.object({
  forgeVersion: z.number().int(),
  optionsHash: z.string().describe("sha256 of the forge version and options; the cache key"),
  options: forgeOptionsSchema,
  target: forgedFileSchema,
  draft: forgedFileSchema,
  rule: z.string().describe("the successor rule both models follow, in words"),
  completion: expectationSchema.describe("a completion prompt (special tokens not parsed) and its greedy continuation"),
  chat: expectationSchema
    .extend({ template: z.string() })
    .describe("the reply to any ChatML conversation; prompt is the generation prompt it follows"),
  draftDisagreements: z
    .array(z.object({ token: z.string(), target: z.string(), draft: z.string() }))
    .describe("tokens after which the draft predicts another token than the target, as pieces"),
});

export type ForgeManifest = z.infer<typeof forgeManifestSchema>;
export type ForgedFile = z.infer<typeof forgedFileSchema>;
