/**
 * The few model facts validation needs, for well-known MoE checkpoints. A deploy spec names the
 * family with `modelHint`, or we guess it from the model path's last segment; `routedExperts` in
 * the spec overrides both (for checkpoints this table does not know).
 */
export interface ModelFacts {
  id: string;
  label: string;
  /** routed (non-shared) experts per MoE layer: (routed + redundant) % ep must be 0 */
  routedExperts: number;
  /** matched against the last path segment / HF repo name, case-insensitive */
  pattern: RegExp;
}

// Counts from each model's config.json (n_routed_experts / num_experts / num_local_experts).
export const KNOWN_MODELS: readonly ModelFacts[] = [
  { id: 'deepseek-v3', label: 'DeepSeek-V3 / V3.1 / V3.2', routedExperts: 256, pattern: /deepseek-v3/i },
  { id: 'deepseek-r1', label: 'DeepSeek-R1', routedExperts: 256, pattern: /deepseek-r1(?!-distill)/i },
  // the Lite entry must come before the plain V2 one: the first match wins
  { id: 'deepseek-v2-lite', label: 'DeepSeek-V2-Lite', routedExperts: 64, pattern: /deepseek-v2(?:\.5)?-lite/i },
  { id: 'deepseek-v2', label: 'DeepSeek-V2 / V2.5', routedExperts: 160, pattern: /deepseek-v2/i },
  { id: 'kimi-k2', label: 'Kimi-K2', routedExperts: 384, pattern: /kimi-k2/i },
  { id: 'qwen3-235b-a22b', label: 'Qwen3-235B-A22B', routedExperts: 128, pattern: /qwen3-235b-a22b/i },
  { id: 'qwen3-30b-a3b', label: 'Qwen3-30B-A3B', routedExperts: 128, pattern: /qwen3-30b-a3b/i },
  { id: 'mixtral-8x7b', label: 'Mixtral-8x7B', routedExperts: 8, pattern: /mixtral-8x7b/i },
  { id: 'mixtral-8x22b', label: 'Mixtral-8x22B', routedExperts: 8, pattern: /mixtral-8x22b/i },
  { id: 'gpt-oss-120b', label: 'gpt-oss-120b', routedExperts: 128, pattern: /gpt-oss-120b/i },
  { id: 'gpt-oss-20b', label: 'gpt-oss-20b', routedExperts: 32, pattern: /gpt-oss-20b/i },
];

export const KNOWN_MODEL_IDS = KNOWN_MODELS.map((m) => m.id) as [string, ...string[]];

export function modelById(id: string): ModelFacts | undefined {
  return KNOWN_MODELS.find((m) => m.id === id);
}

/** Guess from a path like /models/DeepSeek-V3-0324 or an HF id like deepseek-ai/DeepSeek-R1. */
export function guessModel(modelPath: string): ModelFacts | undefined {
  const last = modelPath.replace(/\/+$/, '').split('/').pop() ?? modelPath;
  return KNOWN_MODELS.find((m) => m.pattern.test(last));
}

/** Routed experts for validation: explicit override, else the hint, else a guess from the path. */
export function routedExpertsFor(spec: { model: string; modelHint?: string; routedExperts?: number }): { count: number; source: string } | undefined {
  if (spec.routedExperts !== undefined) return { count: spec.routedExperts, source: 'routedExperts' };
  const hinted = spec.modelHint ? modelById(spec.modelHint) : undefined;
  if (hinted) return { count: hinted.routedExperts, source: `modelHint ${hinted.label}` };
  const guessed = guessModel(spec.model);
  if (guessed) return { count: guessed.routedExperts, source: `model path looks like ${guessed.label}` };
  return undefined;
}
