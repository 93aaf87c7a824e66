import type { SimRole } from './types';

/**
 * The engine's shape: what a launch command line (or startSimServer's options) decides about
 * parallelism, MoE communication, memory and scheduling. Names follow SGLang's ServerArgs.
 */
export interface ServerShape {
  role: SimRole;
  modelPath: string;
  servedModelName: string;
  host: string;
  port: number;
  tpSize: number;
  dpSize: number;
  epSize: number;
  nnodes: number;
  nodeRank: number;
  baseGpuId: number;
  enableDpAttention: boolean;
  moeA2aBackend: string;
  deepepMode: 'auto' | 'normal' | 'low_latency';
  enableEplb: boolean;
  eplbRebalanceNumIterations: number;
  epNumRedundantExperts: number;
  initExpertLocation: string;
  enableTwoBatchOverlap: boolean;
  /** per DP rank (SGLang divides the global flag by dp_size under DP attention) */
  chunkedPrefillSizePerRank: number;
  /** whole server (all DP ranks) */
  maxRunningRequests: number;
  /** per DP rank KV capacity in tokens; null = derived from memory */
  maxTotalTokens: number | null;
  memFractionStatic: number;
  contextLength: number;
  disaggregationBootstrapPort: number;
  disaggregationTransferBackend: string;
  enableMetrics: boolean;
  expertDistributionRecorderMode: string | null;
  expertDistributionRecorderBufferSize: number;
  decodeLogInterval: number;
  /** --enable-request-time-stats-logging: one time-stats line per finished request in the log */
  enableRequestTimeStatsLogging: boolean;
  distInitAddr: string | null;
  apiKey: string | null;
  enableCacheReport: boolean;
  disableRadixCache: boolean;
  numReservedDecodeTokens: number;
  /** every ServerArgs field (snake_case) as /server_info reports it */
  serverArgs: Record<string, unknown>;
}

export const DEFAULT_MODEL_PATH = 'deepseek-ai/DeepSeek-V3';

/** One 8-GPU node serving everything: DP attention + DeepEP EP8, the quickstart default. */
export function defaultShape(overrides: Partial<ServerShape> = {}): ServerShape {
  const tp = overrides.tpSize ?? 8;
  const dp = overrides.dpSize ?? tp;
  const modelPath = overrides.modelPath ?? DEFAULT_MODEL_PATH;
  const base: ServerShape = {
    role: 'unified',
    modelPath,
    servedModelName: overrides.servedModelName ?? modelPath,
    host: '127.0.0.1',
    port: 30000,
    tpSize: tp,
    dpSize: dp,
    epSize: overrides.epSize ?? tp,
    nnodes: 1,
    nodeRank: 0,
    baseGpuId: 0,
    enableDpAttention: dp > 1,
    moeA2aBackend: 'deepep',
    deepepMode: 'auto',
    enableEplb: false,
    eplbRebalanceNumIterations: 1000,
    epNumRedundantExperts: 0,
    initExpertLocation: 'trivial',
    enableTwoBatchOverlap: false,
    chunkedPrefillSizePerRank: 8192,
    maxRunningRequests: 256 * dp,
    maxTotalTokens: null,
    memFractionStatic: 0.85,
    contextLength: 163840,
    disaggregationBootstrapPort: 8998,
    disaggregationTransferBackend: 'mooncake',
    enableMetrics: true,
    expertDistributionRecorderMode: null,
    expertDistributionRecorderBufferSize: 1000,
    decodeLogInterval: 40,
    enableRequestTimeStatsLogging: false,
    distInitAddr: null,
    apiKey: null,
    enableCacheReport: false,
    disableRadixCache: false,
    numReservedDecodeTokens: 512,
    serverArgs: {},
  };
  const shape: ServerShape = { ...base };
  // explicit undefined in overrides means "not given", not "erase the default"
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (shape as unknown as Record<string, unknown>)[k] = v;
  if (shape.enableEplb && shape.expertDistributionRecorderMode === null) shape.expertDistributionRecorderMode = 'stat';
  return shape;
}

/** GPUs of this server instance on one node */
export function gpusPerNode(shape: ServerShape): number {
  return Math.max(1, Math.floor(shape.tpSize / shape.nnodes));
}
