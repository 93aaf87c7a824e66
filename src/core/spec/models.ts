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
  /** config.json hidden_size */
  hiddenSize?: number;
  /** config.json moe_intermediate_size: the width each TP shard of an expert splits */
  moeIntermediateSize?: number;
  /**
   * FP8 block quantisation [block_n, block_k] (quantization_config.weight_block_size) when the
   * checkpoint is block-quantised; only checkpoints whose name says FP8 carry it (see `fp8Pattern`)
   */
  fp8Block?: readonly [number, number];
  /** which paths are the block-FP8 checkpoint (DeepSeek-V3/R1 ship FP8 as their only form) */
  fp8Pattern?: RegExp;
}

/** Shape facts for checkpoints the table does not know, from the spec (`modelShape`). */
export interface ModelShape {
  moeIntermediateSize: number;
  hiddenSize?: number;
  fp8BlockN?: number;
  fp8BlockK?: number;
}

// Counts from each model's config.json (n_routed_experts / num_experts / num_local_experts); shapes
// from the same files (hidden_size, moe_intermediate_size, quantization_config.weight_block_size):
// DeepSeek-V3/R1 7168 / 2048 / [128, 128]; Qwen3-235B-A22B 4096 / 1536 (FP8 release [128, 128]);
// Qwen3-30B-A3B 2048 / 768. The Qwen3 MoE numbers were re-read from public copies of the configs
// (Qwen/Qwen3-235B-A22B: hidden_size 4096, moe_intermediate_size 1536, num_experts 128); the
// DeepSeek ones are the published config.json values, not re-read for issue 18. A checkpoint not
// listed here is described in the spec with `modelShape`.
const BLOCK_128 = [128, 128] as const;
export const KNOWN_MODELS: readonly ModelFacts[] = [
  { id: 'deepseek-v3', label: 'DeepSeek-V3 / V3.1 / V3.2', routedExperts: 256, pattern: /deepseek-v3/i, hiddenSize: 7168, moeIntermediateSize: 2048, fp8Block: BLOCK_128, fp8Pattern: /deepseek-v3(?!.*(bf16|awq|gptq|int4|fp4))/i },
  { id: 'deepseek-r1', label: 'DeepSeek-R1', routedExperts: 256, pattern: /deepseek-r1(?!-distill)/i, hiddenSize: 7168, moeIntermediateSize: 2048, fp8Block: BLOCK_128, fp8Pattern: /deepseek-r1(?!.*(bf16|awq|gptq|int4|fp4))/i },
  // the Lite entry must come before the plain V2 one: the first match wins
  { id: 'deepseek-v2-lite', label: 'DeepSeek-V2-Lite', routedExperts: 64, pattern: /deepseek-v2(?:\.5)?-lite/i },
  { id: 'deepseek-v2', label: 'DeepSeek-V2 / V2.5', routedExperts: 160, pattern: /deepseek-v2/i },
  { id: 'kimi-k2', label: 'Kimi-K2', routedExperts: 384, pattern: /kimi-k2/i },
  { id: 'qwen3-235b-a22b', label: 'Qwen3-235B-A22B', routedExperts: 128, pattern: /qwen3-235b-a22b/i, hiddenSize: 4096, moeIntermediateSize: 1536, fp8Block: BLOCK_128, fp8Pattern: /fp8/i },
  { id: 'qwen3-30b-a3b', label: 'Qwen3-30B-A3B', routedExperts: 128, pattern: /qwen3-30b-a3b/i, hiddenSize: 2048, moeIntermediateSize: 768, fp8Block: BLOCK_128, fp8Pattern: /fp8/i },
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

/** The model facts the shape check uses: the spec's own `modelShape` first, else the table. */
export function shapeFor(spec: { model: string; modelHint?: string; modelShape?: ModelShape }): { moeIntermediateSize: number; blockN?: number; blockK?: number; source: string } | undefined {
  if (spec.modelShape) return { moeIntermediateSize: spec.modelShape.moeIntermediateSize, blockN: spec.modelShape.fp8BlockN, blockK: spec.modelShape.fp8BlockK, source: 'modelShape' };
  const facts = (spec.modelHint ? modelById(spec.modelHint) : undefined) ?? guessModel(spec.model);
  if (!facts?.moeIntermediateSize) return undefined;
  const last = spec.model.replace(/\/+$/, '').split('/').pop() ?? spec.model;
  const fp8 = facts.fp8Block && facts.fp8Pattern?.test(last);
  return { moeIntermediateSize: facts.moeIntermediateSize, blockN: fp8 ? facts.fp8Block?.[0] : undefined, blockK: fp8 ? facts.fp8Block?.[1] : undefined, source: `${facts.label}${fp8 ? ' FP8' : ''} config.json` };
}
