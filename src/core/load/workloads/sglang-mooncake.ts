/**
 * SGLang bench_serving's own Mooncake prompts, for parity runs
 * (python/sglang/benchmark/datasets/mooncake.py @17481b4e, get_mooncake_request_over_time, round
 * 1): per hash id the id's digits followed by 128 "hi" joined by spaces (the id glued to the
 * first one), then "Tell me a story based on this context.", sent as "Round 1: ..." in one user
 * message. input_length is not used, so prompts are ~129 tokens per id, not blockSize: shared ids
 * still give shared prefixes, at that scale. Without a chat template (no tokenizer here) the
 * text APIs get bench_serving's own fallback, "user: <content>".
 */
import { estimateTokens } from '../../util/tokens';
import type { DatasetRow } from '../../metrics/record';
import type { ReuseEstimate } from './block-prompts';
import type { TraceRequest } from './trace-formats';

const HI = Array.from({ length: 128 }, () => 'hi').join(' ');
const TAIL = 'Tell me a story based on this context.';

function blockText(id: number): string {
  return `${id}${HI}`;
}

export function sglangMooncakeRow(r: TraceRequest): DatasetRow {
  const content = `Round 1: ${(r.hashIds ?? []).map(blockText).join('')}${TAIL}`;
  const prompt = `user: ${content}`;
  return { prompt, promptLen: estimateTokens(prompt), outputLen: r.outputLen, messages: [{ role: 'user', content }] };
}

/** the reuse these prompts imply with an unbounded cache (client token estimates), as traceReuse does for exact blocks */
export function sglangMooncakeReuse(requests: readonly TraceRequest[]): ReuseEstimate {
  const seen = new Set<string>();
  const head = estimateTokens('user: Round 1: ');
  let prompt = 0;
  let cached = 0;
  for (const r of requests) {
    const ids = r.hashIds ?? [];
    const total = sglangMooncakeRow(r).promptLen;
    prompt += total;
    let key = '';
    let hit = 0;
    let matching = true;
    for (const id of ids) {
      key += `${id},`;
      if (matching && seen.has(key)) hit += estimateTokens(blockText(id));
      else matching = false;
      seen.add(key);
    }
    cached += hit > 0 ? Math.min(head + hit, total - 1) : 0;
  }
  return { promptTokens: prompt, cachedTokens: cached, hitRate: prompt > 0 ? cached / prompt : 0 };
}
