/**
 * The emulator's pseudo-tokenizer: deterministic, fast, and exact, so a client can know the
 * server's token counts without a real tokenizer.
 *
 * Counting rule (`countTextTokens`):
 *   1. Split the text into pieces, scanning left to right:
 *      - a word piece: an optional single leading space (U+0020) followed by one or more ASCII
 *        letters or digits [A-Za-z0-9];
 *      - a whitespace piece: a run of whitespace characters (space, \t, \n, \r, \f, \v) not
 *        taken by a word piece;
 *      - any other character (punctuation, symbols, non-ASCII) is a piece of its own
 *        (one Unicode code point).
 *   2. A piece of L UTF-16 code units counts ceil(L / 4) tokens (non-ASCII pieces count 1).
 * Prompt tokens (`countPromptTokens`) add one BOS token for text prompts, as DeepSeek's
 * tokenizer does; `input_ids` prompts count their length exactly. Chat prompts count
 * BOS + (1 role token + content tokens) per message + 1 assistant-prefix token.
 *
 * Generated text is made of pieces " xyz" (a space and three letters): exactly one token
 * each, so re-tokenizing a response's text gives exactly its `completion_tokens`.
 */

/** tokens the server adds to a text prompt (BOS) */
export const SPECIAL_TOKENS_ADDED = 1;
/** per chat message: the role marker token */
export const CHAT_TOKENS_PER_MESSAGE = 1;
/** after the last message: the assistant generation prompt */
export const CHAT_GENERATION_PROMPT_TOKENS = 1;

const VOCAB_BITS = 12;
export const OUTPUT_VOCAB_SIZE = 1 << VOCAB_BITS;
/** token ids of generated pieces start here (below are "special" and prompt ids) */
export const OUTPUT_TOKEN_ID_BASE = 1000;

const LETTERS = 'etaoinshrdlucmfw';

/** " xyz" pieces, pre-built once: the hot path indexes, never builds strings per token */
export const OUTPUT_VOCAB: readonly string[] = (() => {
  const out: string[] = [];
  for (let i = 0; i < OUTPUT_VOCAB_SIZE; i++) {
    out.push(' ' + LETTERS[(i >> 8) & 15] + LETTERS[(i >> 4) & 15] + LETTERS[i & 15]);
  }
  return out;
})();

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * The pieces of `text` by the rule above, in order: `onPiece(start, end, single)` for each, where
 * `single` marks a piece that is one token whatever its length (one code point of punctuation or
 * other script); any other piece is one token per 4 characters.
 */
export function forEachPiece(text: string, onPiece: (start: number, end: number, single: boolean) => void): void {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    const start = i;
    if (c === 32 && i + 1 < n && isWordChar(text.charCodeAt(i + 1))) {
      i += 2;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
    } else if (isWordChar(c)) {
      i++;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
    } else if (isSpace(c)) {
      i++;
      while (i < n && isSpace(text.charCodeAt(i)) && !(text.charCodeAt(i) === 32 && i + 1 < n && isWordChar(text.charCodeAt(i + 1)))) i++;
    } else {
      // one code point (a surrogate pair is one piece)
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
      onPiece(start, i, true);
      continue;
    }
    onPiece(start, i, false);
  }
}

/** Exact token count of text by the rule above (no BOS). */
export function countTextTokens(text: string): number {
  let tokens = 0;
  forEachPiece(text, (start, end, single) => {
    tokens += single ? 1 : Math.ceil((end - start) / 4);
  });
  return tokens;
}

/** Server-side prompt_tokens for a text prompt (adds BOS). */
export function countPromptTokens(text: string): number {
  return countTextTokens(text) + SPECIAL_TOKENS_ADDED;
}

export interface ChatMessageLike {
  role: string;
  content: unknown;
}

/** Text of a chat message content: a string, or the text parts of a parts list. */
export function chatContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let s = '';
    for (const part of content) {
      if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') s += (part as { text: string }).text;
    }
    return s;
  }
  return '';
}

/** Server-side prompt_tokens for a chat request (see the rule above). */
export function countChatPromptTokens(messages: readonly ChatMessageLike[]): number {
  let tokens = SPECIAL_TOKENS_ADDED + CHAT_GENERATION_PROMPT_TOKENS;
  for (const m of messages) tokens += CHAT_TOKENS_PER_MESSAGE + countTextTokens(chatContentText(m.content));
  return tokens;
}

/** Index into OUTPUT_VOCAB of generated token `i` of a request whose text seed is `textSeed`. */
export function outputTokenIndex(textSeed: number, i: number): number {
  return Math.imul((textSeed ^ Math.imul(i, 0x9e3779b1)) >>> 0, 0x85ebca6b) >>> (32 - VOCAB_BITS);
}

/** The text of the first `count` generated tokens. */
export function outputText(textSeed: number, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += OUTPUT_VOCAB[outputTokenIndex(textSeed, i)];
  return s;
}

/**
 * Text that counts exactly `tokens` tokens by the rule (without BOS): `tokens` pieces " xyz".
 * Clients use it to build prompts of an exact length (subtract SPECIAL_TOKENS_ADDED first,
 * as SGLang's bench_serving does for its random dataset).
 */
export function textOfTokens(tokens: number, seed = 1): string {
  return outputText(seed >>> 0, Math.max(0, Math.floor(tokens)));
}
