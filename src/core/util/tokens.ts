/**
 * Token counts without a tokenizer. The load generator ships no model tokenizer, so lengths of
 * text datasets (ShareGPT turns, GSM8K questions) are estimated; the server's own counts (usage,
 * meta_info) are what the metrics use whenever the server reports them, and the validity check
 * "token counts disagree" compares the two.
 *
 * Heuristic modelled on BPE vocabularies of Llama-3/DeepSeek: a short word with its leading space
 * is one token, long words split every 8 letters, digits group by three, punctuation is one each.
 */
const PIECE = /\s?[A-Za-z]{1,8}|\d{1,3}|[^\sA-Za-z\d]/g;

export function estimateTokens(text: string): number {
  if (!text) return 0;
  let count = 0;
  PIECE.lastIndex = 0;
  while (PIECE.exec(text) !== null) count++;
  return count;
}
