import { Rng, mix32 } from '../rng';
import type { GenRequest } from './request';

export type FinishReason = { type: 'length'; length: number } | { type: 'stop'; matched: number };

/** What a request will produce, decided at arrival from the seed and the prompt alone. */
export interface Outcome {
  outputTokens: number;
  finish: FinishReason;
  /** picks the generated pieces (see tokenizer.ts) */
  textSeed: number;
}

/** DeepSeek-V3's EOS id, reported as `matched` when a sequence stops by itself */
export const EOS_TOKEN_ID = 1;
/** median length of a response that stops by itself (lognormal, sigma 0.8) */
const NATURAL_MEDIAN_TOKENS = 200;

/**
 * With ignore_eos the output is exactly max_new_tokens long (finish "length"); otherwise a
 * seeded "natural" length, cut at max_new_tokens. Deterministic in (seed, prompt).
 */
export function decideOutcome(req: GenRequest, seed: number, contextLength: number): Outcome {
  const textSeed = mix32(seed, req.promptHash);
  const limit = Math.max(0, req.maxNewTokens ?? contextLength - req.promptTokens);
  if (req.ignoreEos || limit === 0) return { outputTokens: limit, finish: { type: 'length', length: limit }, textSeed };
  const rng = new Rng(mix32(textSeed, 0x5eed));
  const natural = Math.max(1, Math.round(Math.exp(Math.log(NATURAL_MEDIAN_TOKENS) + 0.8 * rng.normal())));
  if (natural >= limit) return { outputTokens: limit, finish: { type: 'length', length: limit }, textSeed };
  return { outputTokens: natural, finish: { type: 'stop', matched: EOS_TOKEN_ID }, textSeed };
}
