import type { Rng } from '../rng';

/**
 * `--random-range-ratio` means different things in the two tools:
 *  - sglang (datasets/common.py compute_random_lens): uniform in [max(1, floor(L·r)), L];
 *    r = 0 (the default) gives [1, L], r = 1 gives exactly L.
 *  - vllm (benchmarks/datasets.py): uniform in [floor(L·(1−r)), ceil(L·(1+r))], symmetric around L,
 *    r in [0, 1); output lengths are at least 1.
 */
export type RangeSemantics = 'sglang' | 'vllm';

export function lengthBounds(fullLen: number, ratio: number, semantics: RangeSemantics, minLen = 0): [number, number] {
  if (!(ratio >= 0)) throw new RangeError(`range ratio must be >= 0 (got ${ratio})`);
  if (semantics === 'sglang') {
    if (ratio > 1) throw new RangeError(`SGLang's range ratio must be in [0, 1] (got ${ratio})`);
    if (fullLen <= 0) return [0, 0];
    return [Math.max(Math.floor(fullLen * ratio), 1), fullLen];
  }
  if (ratio >= 1) throw new RangeError(`vLLM's range ratio must be in [0, 1) (got ${ratio})`);
  return [Math.max(Math.floor(fullLen * (1 - ratio)), minLen), Math.ceil(fullLen * (1 + ratio))];
}

export function sampleLengths(fullLen: number, ratio: number, count: number, semantics: RangeSemantics, rng: Rng, minLen = 0): number[] {
  const [lo, hi] = lengthBounds(fullLen, ratio, semantics, minLen);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = rng.int(lo, hi);
  return out;
}
