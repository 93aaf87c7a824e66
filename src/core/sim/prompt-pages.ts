/**
 * Prefix pages of a prompt, for the emulator's radix-cache stand-in: a chain hash at every
 * PAGE_TOKENS-token boundary of the prompt's token stream (as the server counts tokens, BOS and
 * chat template tokens included), plus one for the partial last page. Two prompts that share their
 * first k·PAGE_TOKENS tokens share their first k page hashes, so a cache keyed by these hashes
 * matches shared prefixes the way SGLang's radix tree does, at a 16-token granularity (SGLang's
 * default page size is 1; its tree matches to the token). A repeated prompt matches all its pages.
 */
import { chatContentText, CHAT_GENERATION_PROMPT_TOKENS, forEachPiece, SPECIAL_TOKENS_ADDED, type ChatMessageLike } from './tokenizer';
import { hashString, mix32 } from './rng';

export const PAGE_TOKENS = 16;

export interface PromptPages {
  /** chain hash of pages 0..i (each hash depends on every token before it) */
  hashes: number[];
  /** tokens in each page (PAGE_TOKENS except possibly the last) */
  lengths: number[];
}

const BOS = 0x0b05;
const GENERATION_PROMPT = 0x6a55;

/** Feeds token hashes one at a time; closes a page every PAGE_TOKENS tokens. */
class PageHasher {
  private chain = 0x2545f491;
  private page = 0x811c9dc5;
  private inPage = 0;
  readonly out: PromptPages = { hashes: [], lengths: [] };

  token(h: number): void {
    this.page = mix32(this.page, h);
    if (++this.inPage === PAGE_TOKENS) this.close();
  }

  private close(): void {
    this.chain = mix32(this.chain, this.page, this.inPage);
    this.out.hashes.push(this.chain);
    this.out.lengths.push(this.inPage);
    this.page = 0x811c9dc5;
    this.inPage = 0;
  }

  finish(): PromptPages {
    if (this.inPage > 0) this.close();
    return this.out;
  }

  /** the tokens of `text` by the tokenizer's piece rule (tokenizer.ts): each 4-character slice of a piece is one token */
  text(text: string): void {
    forEachPiece(text, (start, end, single) => {
      if (single) this.token(hashString(text.slice(start, end)));
      else for (let p = start; p < end; p += 4) this.token(hashString(text.slice(p, Math.min(end, p + 4))));
    });
  }
}


/** pages of a text prompt (/generate text, /v1/completions string): BOS, then the text's tokens */
export function textPromptPages(text: string): PromptPages {
  const h = new PageHasher();
  for (let i = 0; i < SPECIAL_TOKENS_ADDED; i++) h.token(BOS);
  h.text(text);
  return h.finish();
}

/** pages of a token-id prompt (input_ids, a token-array prompt) */
export function idsPromptPages(ids: readonly unknown[]): PromptPages {
  const h = new PageHasher();
  for (const id of ids) h.token(mix32(typeof id === 'number' ? id : 0, 0x1d));
  return h.finish();
}

/**
 * pages of a chat prompt: BOS, then per message a role token and the content's tokens, then the
 * generation prompt (countChatPromptTokens' layout). The generation prompt of turn k and the
 * assistant role token of the same reply in turn k+1 hash alike, so a conversation's turn k+1
 * shares turn k's whole prompt as its prefix.
 */
export function chatPromptPages(messages: readonly ChatMessageLike[]): PromptPages {
  const h = new PageHasher();
  for (let i = 0; i < SPECIAL_TOKENS_ADDED; i++) h.token(BOS);
  for (const m of messages) {
    h.token(m.role === 'assistant' ? GENERATION_PROMPT : hashString(m.role));
    h.text(chatContentText(m.content));
  }
  for (let i = 0; i < CHAT_GENERATION_PROMPT_TOKENS; i++) h.token(GENERATION_PROMPT);
  return h.finish();
}
