/** llama.cpp token types (llama_token_type). */
export const TokenType = { normal: 1, unknown: 2, control: 3, unused: 5, byte: 6 } as const;

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const IM_START_ID = 3;
export const IM_END_ID = 4;
const FIRST_BYTE_ID = 5;
const FIRST_CHAR_ID = FIRST_BYTE_ID + 256;
const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;

/** SentencePiece writes a space as this piece. */
export const SPACE_PIECE = "\u2581";

/** Specials, all 256 byte tokens, then one token per printable ASCII character. */
export const BASE_TOKEN_COUNT = FIRST_CHAR_ID + (LAST_PRINTABLE - FIRST_PRINTABLE + 1);

export type ForgeVocab = {
  pieces: string[];
  types: number[];
};

/**
 * A SentencePiece-style vocabulary with single-character pieces only, so llama.cpp's SPM
 * tokenizer never merges: every printable ASCII character is one token and anything else
 * falls back to its UTF-8 bytes. Padding up to `vocabSize` uses `[PADn]` pieces of type
 * unused, as llama.cpp's own converter does; no text ever tokenizes to them.
 */
export function forgeVocab(vocabSize: number): ForgeVocab {
  const pieces = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control, TokenType.control, TokenType.control];
  for (let byte = 0; byte < 256; byte++) {
    pieces.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TokenType.byte);
  }
  for (let code = FIRST_PRINTABLE; code <= LAST_PRINTABLE; code++) {
    pieces.push(code === 0x20 ? SPACE_PIECE : String.fromCharCode(code));
    types.push(TokenType.normal);
  }
  for (let pad = 0; pieces.length < vocabSize; pad++) {
    pieces.push(`[PAD${pad}]`);
    types.push(TokenType.unused);
  }
  return { pieces, types };
}

export function byteTokenId(byte: number): number {
  return FIRST_BYTE_ID + byte;
}

/** Token of a printable ASCII character (space included), or undefined for anything else. */
export function charTokenId(char: string): number | undefined {
  const code = char.charCodeAt(0);
  if (char.length !== 1 || code < FIRST_PRINTABLE || code > LAST_PRINTABLE) return undefined;
  return FIRST_CHAR_ID + code - FIRST_PRINTABLE;
}

/** The byte a byte token stands for, or undefined when `id` is not a byte token. */
export function tokenByte(id: number): number | undefined {
  return id >= FIRST_BYTE_ID && id < FIRST_CHAR_ID ? id - FIRST_BYTE_ID : undefined;
}

/** The printable character a char token stands for, or undefined. */
export function tokenChar(id: number): string | undefined {
  return id >= FIRST_CHAR_ID && id < BASE_TOKEN_COUNT ? String.fromCharCode(FIRST_PRINTABLE + id - FIRST_CHAR_ID) : undefined;
}

/**
 * The token llama.cpp's tokenizer ends `text` with when special tokens are not parsed:
 * its last printable character, else the last UTF-8 byte, else BOS for empty text.
 */
export function lastPromptToken(text: string): number {
  if (text.length === 0) return BOS_ID;
  const bytes = new TextEncoder().encode(text);
  const last = bytes[bytes.length - 1]!;
  return charTokenId(String.fromCharCode(last)) ?? byteTokenId(last);
}
