export { expectedChatReply, expectedGreedyText, greedyTokens } from "./expected-greedy-text";
export { FORGE_VERSION, type ForgeManifest, forgeManifestSchema } from "./forge-manifest";
export {
  type ForgeOptions,
  ForgeOptionsError,
  type PresetName,
  forgeOptionsSchema,
  presets,
  resolveForgeOptions,
  validateForgeOptions,
} from "./forge-options";
export { forgePair, optionsHash } from "./forge-pair";
export { readGgufHeader } from "./read-gguf-header";
export { SUCCESSOR_RULE, successorTable } from "./successor-rule";
