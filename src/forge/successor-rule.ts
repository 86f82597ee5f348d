import type { ForgeOptions } from "./forge-options";
import { SeededRandom } from "./seeded-random";
import { BOS_ID, EOS_ID, IM_END_ID, IM_START_ID, UNK_ID, byteTokenId, charTokenId } from "./forge-vocab";

export type ForgedModel = "target" | "draft";

export const SUCCESSOR_RULE =
  "Greedy decoding follows the last token only. Lowercase cycles a->b->...->z->space->a; " +
  "uppercase runs A->B->...->Z->'.' and '.' ends the turn (<|im_end|>); digits cycle 0->1->...->9->0; " +
  "a newline starts the uppercase run ('\\n'->A), so every ChatML reply (its prompt ends '<|im_start|>assistant\\n') " +
  "is exactly 'ABCDEFGHIJKLMNOPQRSTUVWXYZ.' then <|im_end|>; <|im_end|> is followed by '\\n'; " +
  "<s>, </s>, <|im_start|> and <unk> are followed by 'a'; a byte token of a printable character acts like that " +
  "character; every other character, byte and padding token is followed by a space " +
  "(llama.cpp's detokenizer drops that space when it is the first generated token). " +
  "The draft follows the same rule except on round(disagreement x size) seeded members of each group " +
  "(the lowercase cycle, the uppercase run, the digits, all other tokens), where it skips one step " +
  "(predicts the successor's successor, or a space where that would end the turn).";

const lowercase = [..."abcdefghijklmnopqrstuvwxyz "];
const uppercase = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ."];
const digits = [..."0123456789"];

const char = (c: string) => charTokenId(c)!;

/** Tokens llama.cpp treats as end of generation. */
export function isEndOfTurn(id: number): boolean {
  return id === IM_END_ID || id === EOS_ID;
}

/** next[x] is the token the model predicts after x. */
export function successorTable(options: ForgeOptions, which: ForgedModel): Int32Array {
  const target = targetSuccessors(options.vocabSize);
  if (which === "target" || options.draftDisagreement === 0) return target;

  const draft = target.slice();
  for (const id of disagreeingTokens(options)) {
    const skipped = target[target[id]!]!;
    draft[id] = isEndOfTurn(skipped) ? char(" ") : skipped;
  }
  return draft;
}

function targetSuccessors(vocabSize: number): Int32Array {
  const next = new Int32Array(vocabSize).fill(char(" "));
  const chain = (chars: string[], last: number) =>
    chars.forEach((c, i) => (next[char(c)] = i + 1 < chars.length ? char(chars[i + 1]!) : last));
  chain(lowercase, char("a"));
  chain(uppercase, IM_END_ID);
  chain(digits, char("0"));
  for (const special of [UNK_ID, BOS_ID, EOS_ID, IM_START_ID]) next[special] = char("a");
  next[IM_END_ID] = byteTokenId(0x0a);
  for (let byte = 0; byte < 256; byte++) {
    const printable = charTokenId(String.fromCharCode(byte));
    if (printable !== undefined) next[byteTokenId(byte)] = next[printable]!;
  }
  next[byteTokenId(0x0a)] = char("A");
  return next;
}

/**
 * Exactly round(rate x size) tokens of each group, so the draft's acceptance along a cycle
 * is exact rather than a sample of a per-token coin flip.
 */
function disagreeingTokens(options: ForgeOptions): number[] {
  const cycles = [lowercase, uppercase, digits].map((chars) => chars.map(char));
  const inCycles = new Set(cycles.flat());
  const others: number[] = [];
  for (let id = 0; id < options.vocabSize; id++) if (!inCycles.has(id)) others.push(id);

  const chosen: number[] = [];
  for (const [index, group] of [...cycles, others].entries()) {
    const random = new SeededRandom(options.seed, `draft-disagreement-${index}`);
    const shuffled = group.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = random.below(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    chosen.push(...shuffled.slice(0, Math.round(options.draftDisagreement * group.length)));
  }
  return chosen.sort((a, b) => a - b);
}
