import type { ServerShape } from '../shape';
import { DEEPSEEK_V3, H200 } from './perf-model';

export interface MemoryPlan {
  /** per GPU */
  weightsMiB: number;
  /** per GPU: the static KV pool (preallocated at start-up, as SGLang does) */
  kvPoolMiB: number;
  /** KV tokens per DP-attention rank */
  kvTokensPerRank: number;
  gpuTotalMiB: number;
}

export class NotEnoughMemoryError extends Error {}

const MiB = 1024 * 1024;

/** Static memory plan of one GPU: weights, then the KV pool up to --mem-fraction-static. */
export function planMemory(shape: ServerShape): MemoryPlan {
  const ep = Math.max(1, shape.epSize);
  const tp = Math.max(1, shape.tpSize);
  const m = DEEPSEEK_V3;
  const physical = m.routedExperts + (ep > 1 ? shape.epNumRedundantExperts : 0);
  const expertsPerGpu = ep > 1 ? physical / ep : m.routedExperts / tp;
  // DP attention (+ dense TP 1) replicates the non-expert weights on every GPU; plain TP shards them
  const nonExpert = shape.enableDpAttention ? m.nonExpertBytes : m.nonExpertBytes / tp;
  const weightsMiB = (nonExpert + expertsPerGpu * m.moeLayers * m.expertBytes) / MiB;
  const staticMiB = H200.memoryMiB * shape.memFractionStatic;
  const kvPoolMiB = staticMiB - weightsMiB;
  if (kvPoolMiB <= 0) {
    throw new NotEnoughMemoryError(`RuntimeError: Not enough memory. Please try to increase --mem-fraction-static. (weights ${(weightsMiB / 1024).toFixed(1)} GiB per GPU, static budget ${(staticMiB / 1024).toFixed(1)} GiB)`);
  }
  // MLA KV is not sharded by attention TP: every GPU of an attention group holds the full KV
  const derived = Math.floor((kvPoolMiB * MiB) / m.kvBytesPerToken);
  const kvTokensPerRank = shape.maxTotalTokens ?? derived;
  return { weightsMiB, kvPoolMiB, kvTokensPerRank, gpuTotalMiB: H200.memoryMiB };
}
