/**
 * Prompts from a Mooncake trace's `hash_ids`, with prefix fidelity and exact lengths (AIPerf's
 * construction, ai-dynamo/aiperf aiperf/dataset/generator/prompt.py `_generate_cached_prompt`
 * @db4f6397): each block id maps to a fixed run of `blockSize` token ids, a prompt is its blocks
 * in order, and the last block is cut so the prompt has exactly `input_length` tokens. Equal ids
 * give equal tokens, so two requests whose hash_ids share a leading run share exactly that many
 * tokens of prefix, and the server's prefix cache sees the trace's reuse. (SGLang's own mooncake
 * replay, python/sglang/benchmark/datasets/mooncake.py @17481b4e, writes ~129 tokens per id and
 * ignores input_length.)
 *
 * Consistency (AIPerf's rule): with n ids, input_length must lie in ((n-1)·blockSize, n·blockSize].
 */
import { DatasetError } from '../datasets/errors';
import type { TraceRequest } from './trace-formats';

/** token ids are drawn from [FIRST_ID, vocabSize): low ids are often special tokens */
const FIRST_ID = 100;

function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface BlockPromptOptions {
  blockSize: number;
  vocabSize: number;
  /** workload seed mixed with the run's cache-bust salt: a new salt gives new blocks, same sharing */
  seed: number;
}

/** Builds and memoises blocks (a trace reuses few blocks many times). */
export class BlockPromptBuilder {
  private readonly blocks = new Map<number, Int32Array>();
  private readonly span: number;

  constructor(private readonly o: BlockPromptOptions) {
    if (!(o.blockSize > 0)) throw new RangeError('blockSize must be positive');
    this.span = Math.max(1, o.vocabSize - FIRST_ID);
  }

  block(id: number): Int32Array {
    let b = this.blocks.get(id);
    if (!b) {
      b = new Int32Array(this.o.blockSize);
      const s = mix(this.o.seed >>> 0, id + 1);
      for (let j = 0; j < b.length; j++) b[j] = FIRST_ID + (mix(s, j) % this.span);
      // keep memory flat on long traces: blocks past a few thousand are rebuilt when asked again
      if (this.blocks.size < 4096) this.blocks.set(id, b);
    }
    return b;
  }

  /**
   * exactly `inputLen` token ids: the blocks of `hashIds`, the last one cut; tokens past the
   * blocks (a trace without hash ids) are the request's own (`request` = its index)
   */
  prompt(hashIds: readonly number[], inputLen: number, request = 0): number[] {
    const out = new Array<number>(inputLen);
    let k = 0;
    for (const id of hashIds) {
      const b = this.block(id);
      for (let j = 0; j < b.length && k < inputLen; j++) out[k++] = b[j];
      if (k >= inputLen) break;
    }
    // past the blocks (no hash ids: Azure, BurstGPT) the request's own tokens, shared with no other request
    for (let j = 0; k < inputLen; j++) out[k++] = FIRST_ID + (mix(this.o.seed ^ 0x7f4a7c15, mix(request + 1, j)) % this.span);
    return out;
  }
}

/** AIPerf's consistency rule; the message names the line (1-based request index in the file order after sorting) */
export function checkBlockConsistency(requests: readonly TraceRequest[], blockSize: number, file: string): void {
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i];
    const n = r.hashIds?.length ?? 0;
    if (n === 0) continue;
    if (r.inputLen > n * blockSize || r.inputLen <= (n - 1) * blockSize) {
      throw new DatasetError(
        `Request ${i + 1} of the trace has ${n} hash ids but input_length ${r.inputLen}: with blocks of ${blockSize} tokens it must be in (${(n - 1) * blockSize}, ${n * blockSize}]`,
        file,
        `Set workload.blockSize to the block size the trace was made with (Mooncake: 512).`,
      );
    }
  }
}

export interface ReuseEstimate {
  /** Σ prompt tokens */
  promptTokens: number;
  /** Σ tokens an unbounded prefix cache would serve */
  cachedTokens: number;
  /** cachedTokens / promptTokens */
  hitRate: number;
}

/**
 * The reuse the trace implies with an unbounded cache, replayed in arrival order: a request's
 * leading blocks whose whole id chain an earlier request already had are cached (radix-tree
 * semantics: block k counts only when blocks 0..k-1 matched too), each for the tokens both
 * requests have of it; at most input_length - 1 tokens (SGLang always computes the last token).
 */
export function traceReuse(requests: readonly TraceRequest[], blockSize: number): ReuseEstimate {
  /** chain key -> the most tokens of that block any earlier request had */
  const seen = new Map<string, number>();
  let prompt = 0;
  let cached = 0;
  for (const r of requests) {
    prompt += r.inputLen;
    const ids = r.hashIds ?? [];
    let key = '';
    let hit = 0;
    let matching = true;
    for (let k = 0; k < ids.length; k++) {
      key += `${ids[k]},`;
      const len = Math.max(0, Math.min(blockSize, r.inputLen - k * blockSize));
      const had = seen.get(key);
      if (matching && had !== undefined) hit += Math.min(had, len);
      // a partly shared block ends the match
      if (had === undefined || had < len) matching = false;
      if (had === undefined || had < len) seen.set(key, len);
    }
    cached += Math.min(hit, r.inputLen - 1);
  }
  return { promptTokens: prompt, cachedTokens: cached, hitRate: prompt > 0 ? cached / prompt : 0 };
}
