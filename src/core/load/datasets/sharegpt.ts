import type { DatasetRow } from '../../metrics/record';
import type { Rng } from '../rng';
import { DatasetError } from './errors';
import { estimateTokens } from '../../util/tokens';

export interface ShareGptOptions {
  numPrompts: number;
  /** fixed output length instead of the second turn's length (SGLang requires >= 4) */
  outputLen?: number;
  /** drop conversations whose prompt + output exceed this */
  contextLen?: number;
}

/**
 * ShareGPT_V3_unfiltered_cleaned_split.json shape: [{ id, conversations: [{ from, value }] }].
 * SGLang keeps conversations with >= 2 turns, shuffles, prompts with turn 0 and sizes the output
 * by turn 1; prompts or outputs shorter than 2 tokens are skipped.
 */
export function shareGptDataset(json: unknown, opts: ShareGptOptions, rng: Rng, file: string): DatasetRow[] {
  if (!Array.isArray(json)) throw new DatasetError('ShareGPT file must hold a JSON array of conversations', file, 'Use ShareGPT_V3_unfiltered_cleaned_split.json or the same shape: [{"conversations":[{"from":"human","value":"..."},...]}].');
  const pairs: [string, string][] = [];
  for (const item of json) {
    const conv = isRecord(item) ? item['conversations'] : undefined;
    if (!Array.isArray(conv) || conv.length < 2) continue;
    const first = turnText(conv[0]);
    const second = turnText(conv[1]);
    if (first !== undefined && second !== undefined) pairs.push([first, second]);
  }
  if (pairs.length === 0) throw new DatasetError('ShareGPT file has no conversation with two turns', file);
  rng.shuffle(pairs);
  const rows: DatasetRow[] = [];
  for (const [prompt, completion] of pairs) {
    if (rows.length >= opts.numPrompts) break;
    const promptLen = estimateTokens(prompt);
    const outputLen = opts.outputLen ?? estimateTokens(completion);
    if (promptLen < 2 || outputLen < 2) continue;
    if (opts.contextLen !== undefined && promptLen + outputLen > opts.contextLen) continue;
    rows.push({ prompt, promptLen, outputLen });
  }
  return rows;
}

function turnText(turn: unknown): string | undefined {
  if (!isRecord(turn)) return undefined;
  const v = turn['value'] ?? turn['content'];
  return typeof v === 'string' ? v : undefined;
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
