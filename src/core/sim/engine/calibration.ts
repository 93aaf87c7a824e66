import { MoeRouting, DEFAULT_ZIPF_EXPONENT } from './moe';
import { DEEPSEEK_V3, stepCost, type CommMode, type RankWork } from './perf-model';

/**
 * The operating points the model is calibrated against (LMSYS blog "Deploying DeepSeek with PD
 * Disaggregation and Large-scale Expert Parallelism on 96 H100 GPUs", 2025-05-05; see README).
 * Each point runs the same routing + step-cost code the scheduler runs, in steady state.
 */
export interface OperatingPoint {
  name: string;
  gpus: number;
  /** sequences per rank (decode) or prompts per rank (prefill) */
  seqsPerRank: number;
  /** decode: KV length per sequence; prefill: prompt length */
  lengthTokens: number;
  phase: 'decode' | 'prefill';
  commMode: CommMode;
  tbo: boolean;
  eplb: boolean;
  redundantExperts: number;
}

export interface PointResult {
  point: OperatingPoint;
  stepMs: number;
  /** output tok/s per 8-GPU node (decode) or input tok/s per node (prefill) */
  tokensPerSecPerNode: number;
  balancedness: number;
}

const PASSES = 8;

export function evaluatePoint(p: OperatingPoint, seed = 1): PointResult {
  const moe = new MoeRouting({ layers: DEEPSEEK_V3.moeLayers, experts: DEEPSEEK_V3.routedExperts, topK: DEEPSEEK_V3.topK, epSize: p.gpus, tpSize: p.gpus, redundantExperts: p.redundantExperts, seed, zipfExponent: DEFAULT_ZIPF_EXPONENT });
  const work: RankWork[] = [];
  let tokensPerRank: number;
  if (p.phase === 'decode') {
    tokensPerRank = p.seqsPerRank;
    for (let r = 0; r < p.gpus; r++) work.push({ decodeSeqs: p.seqsPerRank, decodeKvTokens: p.seqsPerRank * p.lengthTokens, prefillTokens: 0, prefillPairs: 0 });
  } else {
    tokensPerRank = p.seqsPerRank * p.lengthTokens;
    const pairs = p.seqsPerRank * ((p.lengthTokens * (p.lengthTokens + 1)) / 2);
    for (let r = 0; r < p.gpus; r++) work.push({ decodeSeqs: 0, decodeKvTokens: 0, prefillTokens: tokensPerRank, prefillPairs: pairs });
  }
  const total = tokensPerRank * p.gpus;
  if (p.eplb) {
    // EPLB with in-distribution statistics (as the blog's runs): rebalance on recorded passes
    const load = new Float64Array(DEEPSEEK_V3.moeLayers * DEEPSEEK_V3.routedExperts);
    for (let i = 0; i < 20; i++) {
      const c = moe.pass(total).logicalCounts;
      for (let k = 0; k < c.length; k++) load[k] += c[k];
    }
    moe.rebalance(load);
  }
  let stepMs = 0;
  let bal = 0;
  for (let i = 0; i < PASSES; i++) {
    const pass = moe.pass(total);
    stepMs += stepCost({ ranks: work, attnTp: 1, maxGpuPairsPerLayer: pass.maxGpuPairs, commMode: p.commMode, tbo: p.tbo, cudaGraph: p.phase === 'decode' && p.commMode !== 'normal' }).totalMs;
    bal += pass.balancedness;
  }
  stepMs /= PASSES;
  return { point: p, stepMs, tokensPerSecPerNode: (8 * tokensPerRank) / (stepMs / 1000), balancedness: bal / PASSES };
}

/** blog decode: 9 nodes, EP72, 256 sequences per rank, KV 2000, TBO, DeepEP low-latency, 32 redundant experts */
export const BLOG_DECODE: OperatingPoint = { name: 'decode EP72 bs256 KV2000', gpus: 72, seqsPerRank: 256, lengthTokens: 2000, phase: 'decode', commMode: 'low_latency', tbo: true, eplb: true, redundantExperts: 32 };
/** blog prefill: 4 nodes, EP32, 16384 tokens per device of 2K prompts, TBO, DeepEP normal, 32 redundant experts */
export const BLOG_PREFILL: OperatingPoint = { name: 'prefill EP32 2K prompts 16384 tok/device', gpus: 32, seqsPerRank: 8, lengthTokens: 2048, phase: 'prefill', commMode: 'normal', tbo: true, eplb: true, redundantExperts: 32 };

export function calibrationTable(): PointResult[] {
  const v = (p: OperatingPoint, patch: Partial<OperatingPoint>): OperatingPoint => ({ ...p, ...patch, name: `${p.name} ${Object.entries(patch).map(([k, x]) => `${k}=${String(x)}`).join(' ')}` });
  return [
    BLOG_DECODE,
    v(BLOG_DECODE, { tbo: false }),
    v(BLOG_DECODE, { eplb: false }),
    v(BLOG_DECODE, { seqsPerRank: 32 }),
    v(BLOG_DECODE, { seqsPerRank: 32, tbo: false }),
    BLOG_PREFILL,
    v(BLOG_PREFILL, { tbo: false }),
    v(BLOG_PREFILL, { eplb: false }),
    v(BLOG_PREFILL, { seqsPerRank: 16, lengthTokens: 1024 }),
    v(BLOG_PREFILL, { seqsPerRank: 4, lengthTokens: 4096 }),
  ].map((p) => evaluatePoint(p));
}
