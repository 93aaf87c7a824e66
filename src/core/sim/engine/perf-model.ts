/**
 * Step-time model of a DeepSeek-V3-class MoE engine (see ../README.md for the calibration and
 * its sources). Everything here is a pure function of a step's shape, so it can be unit
 * tested and calibrated without timers.
 */

/** DeepSeek-V3 / R1 architecture facts (config.json of deepseek-ai/DeepSeek-V3) */
export const DEEPSEEK_V3 = {
  layers: 61,
  /** first 3 layers are dense */
  moeLayers: 58,
  routedExperts: 256,
  topK: 8,
  /** MLA KV per token: (kv_lora_rank 512 + rope 64) x bf16 x 61 layers */
  kvBytesPerToken: 576 * 2 * 61,
  /** one routed expert's FP8 weights: 3 x hidden 7168 x moe_intermediate 2048 */
  expertBytes: 3 * 7168 * 2048,
  /** everything but routed experts (attention, dense layers, shared experts, embeddings), FP8/bf16 mix */
  nonExpertBytes: 17e9,
} as const;

export const H200 = {
  memoryMiB: 143771,
  /** CUDA context + NCCL/DeepEP buffers + cuda graphs outside the static pool */
  runtimeOverheadMiB: 3500,
  powerLimitW: 700,
  idlePowerW: 120,
} as const;

export type CommMode = 'normal' | 'low_latency' | 'allreduce';

/**
 * Cost constants, milliseconds unless named otherwise. Fitted so the blog's two operating
 * points come out (README: 22.3k output tok/s per decode node at EP72 bs256 KV2000; ~52-54k
 * input tok/s per prefill node at EP32 with 16384 tokens per device), with the TBO and EPLB
 * ablations in the right direction and roughly the right size.
 */
export const COSTS = {
  // attention + projections, per DP-attention rank
  decodeAttnBaseMs: 1.0,
  decodeAttnPerSeqMs: 0.03,
  /** reading one token of MLA KV: 70 KB at ~3 TB/s */
  decodeAttnPerKvTokenMs: 23.4e-6,
  prefillAttnPerTokenMs: 0.01,
  /** causal attention: per (query token, earlier token) pair */
  prefillAttnPerPairMs: 30e-6,
  // dense layers, shared experts, LM head, sampling
  otherBaseMs: 3.0,
  decodeOtherPerTokenMs: 0.03,
  prefillOtherPerTokenMs: 0.008,
  // routed-expert GEMMs, per MoE layer, on the most loaded GPU
  moeLayerBaseMs: 0.25,
  /** per (token, expert) pair: masked-layout grouped GEMM at decode batch sizes */
  decodeMoePerPairMs: 0.146e-3,
  /** per pair: contiguous-layout grouped GEMM at prefill sizes (more efficient) */
  prefillMoePerPairMs: 0.1e-3,
  // expert-parallel all-to-all (dispatch + combine) per MoE layer, paced by the busiest receiver
  comm: {
    low_latency: { layerBaseMs: 0.1, perPairMs: 0.37e-3, prefillPerPairMs: 0.5e-3 },
    normal: { layerBaseMs: 1.0, perPairMs: 0.2e-3, prefillPerPairMs: 0.2e-3 },
    /** no DeepEP: an all-reduce/all-gather of hidden states, per token (not per pair) */
    allreduce: { layerBaseMs: 0.05, perPairMs: 0.05e-3 / 8, prefillPerPairMs: 0.05e-3 / 8 },
  },
  /** decode steps without CUDA graphs (DeepEP normal) pay kernel-launch overhead */
  noCudaGraphOverheadMs: 6.0,
  /** TBO: the share of the shorter of compute/communication that still shows (imperfect overlap) */
  tboLeak: { low_latency: 0.15, normal: 0.5, allreduce: 0.5 },
} as const;

/** What one rank does in a step. */
export interface RankWork {
  /** decode: sequences in the batch; prefill: 0 */
  decodeSeqs: number;
  /** decode: sum of KV lengths of the batch */
  decodeKvTokens: number;
  /** prefill (extend) tokens in the chunk */
  prefillTokens: number;
  /** prefill: sum over chunk tokens of their context position (causal pairs) */
  prefillPairs: number;
}

export interface StepShape {
  ranks: readonly RankWork[];
  /** GPUs per attention rank (attention TP); 1 with DP attention dp == tp */
  attnTp: number;
  /** per MoE layer: (token, expert) pairs landing on the most loaded GPU */
  maxGpuPairsPerLayer: readonly number[];
  commMode: CommMode;
  tbo: boolean;
  cudaGraph: boolean;
}

export interface StepCost {
  totalMs: number;
  computeMs: number;
  commMs: number;
}

function rankCompute(r: RankWork, attnTp: number): number {
  if (r.decodeSeqs === 0 && r.prefillTokens === 0) return 0;
  const c = COSTS;
  const attn = r.prefillTokens > 0 ? r.prefillTokens * c.prefillAttnPerTokenMs + r.prefillPairs * c.prefillAttnPerPairMs : c.decodeAttnBaseMs + r.decodeSeqs * c.decodeAttnPerSeqMs + r.decodeKvTokens * c.decodeAttnPerKvTokenMs;
  const other = c.otherBaseMs + (r.prefillTokens > 0 ? r.prefillTokens * c.prefillOtherPerTokenMs : r.decodeSeqs * c.decodeOtherPerTokenMs);
  return (attn + other) / attnTp;
}

/** Duration of one forward pass of the whole EP group. */
export function stepCost(s: StepShape): StepCost {
  const c = COSTS;
  let denseMs = 0;
  let prefill = false;
  for (const r of s.ranks) {
    denseMs = Math.max(denseMs, rankCompute(r, s.attnTp));
    if (r.prefillTokens > 0) prefill = true;
  }
  const comm = c.comm[s.commMode];
  const perPairMoe = prefill ? c.prefillMoePerPairMs : c.decodeMoePerPairMs;
  const perPairComm = prefill ? comm.prefillPerPairMs : comm.perPairMs;
  let moeMs = 0;
  let commMs = 0;
  for (const pairs of s.maxGpuPairsPerLayer) {
    moeMs += c.moeLayerBaseMs + pairs * perPairMoe;
    commMs += comm.layerBaseMs + pairs * perPairComm;
  }
  let computeMs = denseMs + moeMs;
  if (!s.cudaGraph && !prefill) computeMs += c.noCudaGraphOverheadMs;
  if (!s.tbo) return { totalMs: computeMs + commMs, computeMs, commMs };
  // two micro-batches: fixed per-layer and per-step costs are paid twice, communication of one
  // overlaps computation of the other
  const fixed = s.maxGpuPairsPerLayer.length * c.moeLayerBaseMs + c.decodeAttnBaseMs + c.otherBaseMs;
  const compute2 = computeMs + fixed;
  const comm2 = commMs + s.maxGpuPairsPerLayer.length * comm.layerBaseMs;
  const totalMs = Math.max(compute2, comm2) + c.tboLeak[s.commMode] * Math.min(compute2, comm2);
  return { totalMs, computeMs: compute2, commMs: comm2 };
}
