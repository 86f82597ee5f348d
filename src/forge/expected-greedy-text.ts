import type { ForgeOptions } from "./forge-options";
import { byteTokenId, charTokenId, lastPromptToken, tokenByte, tokenChar } from "./forge-vocab";
import { type ForgedModel, isEndOfTurn, successorTable } from "./successor-rule";

/**
 * The tokens greedy decoding produces after `lastToken`, at most `maxTokens`, stopping
 * before an end-of-turn token (which llama.cpp consumes as the stop). Without a finite
 * `maxTokens` the sequence must end: a repeated token means it never would.
 */
export function greedyTokens(lastToken: number, maxTokens: number, options: ForgeOptions, which: ForgedModel): number[] {
  const next = successorTable(options, which);
  const tokens: number[] = [];
  const seen = new Set<number>();
  for (let token = lastToken; tokens.length < maxTokens; ) {
    token = next[token]!;
    if (isEndOfTurn(token)) break;
    if (!Number.isFinite(maxTokens) && seen.has(token)) {
      throw new RangeError(`the ${which}'s greedy output after token ${lastToken} never ends; pass a finite maxTokens`);
    }
    seen.add(token);
    tokens.push(token);
  }
  return tokens;
}

/**
 * The exact text a temperature-0 completion of `prompt` (special tokens not parsed) generates,
 * detokenized on its own as llama.cpp does it: SentencePiece drops the space a first
 * generated space token would add, so after "z" the text is "abc..." while the tokens are
 * [space, a, b, c, ...] (see greedyTokens).
 */
export function expectedGreedyText(prompt: string, maxTokens: number, options: ForgeOptions, which: ForgedModel = "target"): string {
  return tokensToText(greedyTokens(lastPromptToken(prompt), maxTokens, options, which));
}

/**
 * The reply to any ChatML conversation: the generation prompt ends with a newline, so the
 * reply does not depend on the messages. Ends on its own unless `maxTokens` cuts it short.
 */
export function expectedChatReply(options: ForgeOptions, which: ForgedModel = "target", maxTokens = Number.POSITIVE_INFINITY): string {
  return tokensToText(greedyTokens(byteTokenId(0x0a), maxTokens, options, which));
}

function tokensToText(tokens: number[]): string {
  const bytes: number[] = [];
  const leadingSpace = tokens[0] === charTokenId(" ");
  for (const id of leadingSpace ? tokens.slice(1) : tokens) {
    const byte = tokenByte(id);
    if (byte !== undefined) bytes.push(byte);
    else bytes.push(...new TextEncoder().encode(tokenChar(id) ?? ""));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
