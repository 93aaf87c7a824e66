import { Rng, mix32 } from '../rng';
import type { GenRequest } from './request';

export type FinishReason = { type: 'length'; length: number } | { type: 'stop'; matched: number };

/** What a request will produce, decided at arrival from the seed and the prompt alone. */
export interface Outcome {
  outputTokens: number;
  finish: FinishReason;
  /** picks the generated pieces (see tokenizer.ts) */
  textSeed: number;
  /** the first this many output tokens are thinking (a server launched with --reasoning-parser); 0 otherwise */
  reasoningTokens: number;
  /** speculative decoding (--speculative-algorithm): verify passes and the drafts they accepted */
  spec?: SpecOutcome;
}

export interface SpecOutcome {
  /** speculative_num_draft_tokens (the target's token included, as SGLang counts it) */
  draftTokens: number;
  verifyCt: number;
  /** accepted draft tokens, the bonus token of each pass not included */
  correctDrafts: number;
}

/** what the server's flags add to every outcome */
export interface OutcomeOptions {
  /** --reasoning-parser set: the emulated model thinks first */
  reasoning?: boolean;
  /** --speculative-algorithm set: speculative_num_draft_tokens */
  specDraftTokens?: number;
}

/** DeepSeek-V3's EOS id, reported as `matched` when a sequence stops by itself */
export const EOS_TOKEN_ID = 1;
/** median length of a response that stops by itself (lognormal, sigma 0.8) */
const NATURAL_MEDIAN_TOKENS = 200;

/**
 * With ignore_eos the output is exactly max_new_tokens long (finish "length"); otherwise a
 * seeded "natural" length, cut at max_new_tokens. Deterministic in (seed, prompt).
 */
export function decideOutcome(req: GenRequest, seed: number, contextLength: number, options: OutcomeOptions = {}): Outcome {
  const textSeed = mix32(seed, req.promptHash);
  const limit = Math.max(0, req.maxNewTokens ?? contextLength - req.promptTokens);
  let out: Outcome;
  if (req.ignoreEos || limit === 0) out = { outputTokens: limit, finish: { type: 'length', length: limit }, textSeed, reasoningTokens: 0 };
  else {
    const rng = new Rng(mix32(textSeed, 0x5eed));
    const natural = Math.max(1, Math.round(Math.exp(Math.log(NATURAL_MEDIAN_TOKENS) + 0.8 * rng.normal())));
    out = natural >= limit ? { outputTokens: limit, finish: { type: 'length', length: limit }, textSeed, reasoningTokens: 0 } : { outputTokens: natural, finish: { type: 'stop', matched: EOS_TOKEN_ID }, textSeed, reasoningTokens: 0 };
  }
  if (options.reasoning) out.reasoningTokens = thinkingTokens(textSeed, out.outputTokens);
  if (options.specDraftTokens !== undefined && options.specDraftTokens > 1 && out.outputTokens > 0) out.spec = specOutcome(textSeed, out.outputTokens, options.specDraftTokens);
  return out;
}

/**
 * Thinking length: a seeded 30-80 % of the output, the rest is the answer (a request cut by its
 * token limit still answers with at least one token; one-token outputs do not think). A stand-in
 * for a reasoning model's shape, not a model of one.
 */
export function thinkingTokens(textSeed: number, outputTokens: number): number {
  if (outputTokens < 2) return 0;
  const share = 0.3 + 0.5 * new Rng(mix32(textSeed, 0x7417)).next();
  return Math.min(outputTokens - 1, Math.max(1, Math.floor(outputTokens * share)));
}

/**
 * Speculative verify passes for one request: each pass proposes draftTokens - 1 drafts, accepts a
 * leading run of them (each with a per-request seeded probability, 0.55-0.85) and adds the
 * target's own token. Only the counts SGLang reports per request are modelled; the step timing
 * of the performance model is unchanged.
 */
export function specOutcome(textSeed: number, outputTokens: number, draftTokens: number): SpecOutcome {
  const rng = new Rng(mix32(textSeed, 0x5bec));
  const p = 0.55 + 0.3 * rng.next();
  let produced = 0;
  let verifyCt = 0;
  let correct = 0;
  while (produced < outputTokens) {
    let k = 0;
    while (k < draftTokens - 1 && rng.next() < p) k++;
    const step = Math.min(k + 1, outputTokens - produced);
    correct += step - 1;
    produced += step;
    verifyCt++;
  }
  return { draftTokens, verifyCt, correctDrafts: correct };
}
