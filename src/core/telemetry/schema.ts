/**
 * The one telemetry record schema: every line of a run's `telemetry.jsonl` is one of these.
 * Times are Unix epoch milliseconds on the machine running MoE Bench (`tsMs`), never the node's
 * clock: samples from many nodes then line up without clock-skew guesses.
 *
 * Growth rule (issue 11 adds DCGM, NIC and scheduler-log series): new record kinds and new
 * optional fields only. Readers skip kinds they do not know, so older tools read newer runs.
 */

export const TELEMETRY_SCHEMA_VERSION = 1;

/** One GPU's reading in one `nvidia-smi -lms` tick. Fields the driver reports as [N/A] are absent. */
export interface GpuReading {
  /** nvidia-smi index on its node */
  index: number;
  uuid?: string;
  utilGpuPct?: number;
  utilMemPct?: number;
  memUsedMiB?: number;
  memTotalMiB?: number;
  powerW?: number;
  powerLimitW?: number;
  tempC?: number;
  memTempC?: number;
  smClockMHz?: number;
  memClockMHz?: number;
  pstate?: string;
  /** NVML clock-event (throttle) reason bitmask, see gpu/throttle.ts */
  clockEventMask?: number;
  eccUncorrectedVolatile?: number;
  pcieGen?: number;
  pcieWidth?: number;
  fanPct?: number;
}

/** All GPUs of one node at one tick (one line per node per tick keeps 96-GPU runs small). */
export interface GpuSample {
  kind: 'gpu';
  tsMs: number;
  node: string;
  gpus: GpuReading[];
}

/** Percentiles of a latency histogram over the sample's window, in milliseconds. */
export interface LatencyPercentilesMs {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  mean: number | null;
  /** observations in the window (requests, or tokens for ITL) */
  count: number;
}

/** PD-disaggregation queues and KV transfer (SGLang only). */
export interface PdQueues {
  prefillPreallocQueueReqs?: number;
  prefillInflightQueueReqs?: number;
  decodePreallocQueueReqs?: number;
  decodeTransferQueueReqs?: number;
  kvTransferSpeedGBps?: number;
  kvTransferLatencyMs?: number;
  kvTransferBootstrapMs?: number;
  kvTransferAllocMs?: number;
  kvTransferTotalMb?: number;
  /**
   * how the server declared the KV-transfer families (SGLang PR #19009): `histogram` = the values
   * above are means over the window's transfers; `gauge` = the last transfer per rank (averaged)
   */
  kvMetricType?: 'histogram' | 'gauge';
}

/** One scrape of one server's /metrics, normalized across SGLang and vLLM and across ranks. */
export interface ServerSample {
  kind: 'server';
  tsMs: number;
  /** the deployment/endpoint name this scrape belongs to (e.g. "decode-0") */
  endpoint: string;
  backend: 'sglang' | 'vllm' | 'unknown';
  /** seconds covered by the rates and percentiles (0 on the first scrape) */
  windowSec: number;
  /** how many rank series were aggregated (e.g. dp ranks reporting) */
  rankSeries: number;
  runningReqs?: number;
  queuedReqs?: number;
  /** KV-cache pool use 0..1 (max over ranks: the fullest rank is the one that stalls) */
  tokenUsage?: number;
  usedTokens?: number;
  maxTotalTokens?: number;
  /** SGLang's own scheduler estimate (gauge), summed over ranks */
  genThroughputTokPerSec?: number;
  /** prefix cache hit rate 0..1 (SGLang gauge, or vLLM Δhits/Δqueries) */
  cacheHitRate?: number;
  promptTokensPerSec?: number;
  genTokensPerSec?: number;
  requestsPerSec?: number;
  ttftMs?: LatencyPercentilesMs;
  itlMs?: LatencyPercentilesMs;
  e2eMs?: LatencyPercentilesMs;
  queueTimeMs?: LatencyPercentilesMs;
  pd?: PdQueues;
  /** SGLang's exported balancedness (Summary mean over the window), when the server exports it */
  eplbBalancedness?: number;
  specAcceptLength?: number;
}

/** Expert-load snapshot from one recorder dump (see experts/load.ts). */
export interface ExpertSnapshot {
  kind: 'experts';
  tsMs: number;
  endpoint: string;
  /** e.g. "before-eplb", "after-eplb", "step-2" */
  label: string;
  epSize: number;
  numLayers: number;
  numLogicalExperts: number;
  /** [layer][logical expert] (token, expert) assignments summed over recorded passes */
  logicalCount: number[][];
  /** [layer][gpu] load per EP rank from the physical layout */
  gpuLoad: number[][];
  /** [layer] SGLang balancedness = (mean+1e-5)/(max+1e-5) over GPUs */
  balancednessPerLayer: number[];
  balancednessMean: number;
  /** true when the physical layout was assumed (trivial or replicas split evenly) rather than recorded */
  layoutApproximate: boolean;
}

/** 'measured': a step's measured window (first dispatch after warm-up → last response), for energy per token */
export type PhaseName = 'run' | 'warmup' | 'step' | 'cooldown' | 'eplb' | 'measured';

/** Marks where phases begin and end so charts and energy use the right windows. */
export interface PhaseMarker {
  kind: 'phase';
  tsMs: number;
  phase: PhaseName;
  edge: 'start' | 'end';
  /** 0-based sweep step index for phase "step" */
  step?: number;
  /** human label, e.g. "concurrency=64" */
  label?: string;
}

// ---- issue 11: deep telemetry (additive kinds; see src/core/telemetry/deep/) ----

/**
 * One GPU's profiling counters. From DCGM (`dcgmi dmon`, fields 1002-1012) when the node has it;
 * otherwise from nvidia-smi (NVLink data counters and `dmon -s t` PCIe throughput), which has no
 * SM/tensor activity. Activity is a percentage of elapsed cycles; bandwidth in GB/s (10^9 B/s).
 */
export interface GpuDeepReading {
  index: number;
  smActivePct?: number;
  smOccupancyPct?: number;
  tensorActivePct?: number;
  dramActivePct?: number;
  pcieTxGBps?: number;
  pcieRxGBps?: number;
  nvlinkTxGBps?: number;
  nvlinkRxGBps?: number;
}

export interface GpuDeepSample {
  kind: 'gpu-deep';
  tsMs: number;
  node: string;
  source: 'dcgm' | 'nvidia-smi';
  gpus: GpuDeepReading[];
}

/** One InfiniBand / RoCE port over one sampling interval. Rates in Gbit/s (10^9 bit/s). */
export interface NicReading {
  /** "mlx5_0" */
  device: string;
  port: number;
  txGbps: number;
  rxGbps: number;
  /** GPUs closest to this NIC from `nvidia-smi topo -m` ("GPU0"...), when known */
  gpus?: string[];
  /** the 32-bit counter is pinned at its maximum: the rate is a lower bound */
  saturated?: boolean;
}

export interface NicSample {
  kind: 'nic';
  tsMs: number;
  node: string;
  /** seconds between the two counter reads the rates come from (node clock) */
  intervalSec: number;
  nics: NicReading[];
  /** sum over the node's ports */
  txGbps: number;
  rxGbps: number;
}

/** SGLang rank prefix of a scheduler log line: `[time DP3 TP3 EP3]`. */
export interface SchedRank {
  dp?: number;
  tp?: number;
  ep?: number;
  pp?: number;
}

/**
 * One SGLang scheduler log line as data: a prefill batch, a decode batch or an expert
 * balancedness report (formats and the versions they match: deep/sglang-log/formats.ts).
 */
export interface SchedLogSample {
  kind: 'sched';
  tsMs: number;
  /** the server (deployment process) the line came from, e.g. "decode-0" */
  endpoint: string;
  node?: string;
  event: 'prefill' | 'decode' | 'balancedness';
  rank: SchedRank;
  /** the line's own time stamp as printed (node clock, second resolution) */
  logTime?: string;
  newSeqs?: number;
  newTokens?: number;
  cachedTokens?: number;
  usedTokens?: number;
  /** KV pool use 0..1 */
  tokenUsage?: number;
  runningReqs?: number;
  queueReqs?: number;
  genThroughputTokPerSec?: number;
  inputThroughputTokPerSec?: number;
  cudaGraph?: boolean;
  /** PD prefill: waiting for the decode side's bootstrap ("#unbootstrapped-req" / "#prealloc-req") */
  bootstrapQueueReqs?: number;
  /** PD prefill: KV being sent ("#transferring-req" / "#inflight-req") */
  inflightReqs?: number;
  /** PD decode: KV pre-allocated, waiting for the transfer */
  preallocQueueReqs?: number;
  /** PD decode: KV transfer in progress */
  transferQueueReqs?: number;
  retractedReqs?: number;
  preallocatedUsage?: number;
  specAcceptLength?: number;
  specAcceptRate?: number;
  forwardPassId?: number;
  balancedness?: number;
  /** "last_N_average_balancedness" values by N */
  balancednessAverages?: Record<string, number>;
}

/** Time split and top kernels of one rank's torch-profiler trace (see deep/profile/). */
export interface ProfileSummary {
  kind: 'profile';
  tsMs: number;
  endpoint: string;
  node: string;
  /** rank label from the trace file name ("TP-3", "TP-3-DP-3-EP-3") */
  rank: string;
  /** the trace in the run store, relative to the run directory */
  traceFile: string;
  gpuKernelMs: number;
  splitMs: { gemm: number; attention: number; allToAll: number; other: number };
  topKernels: { name: string; category: 'gemm' | 'attention' | 'allToAll' | 'other'; totalMs: number; count: number }[];
}

export type TelemetryRecord = GpuSample | ServerSample | ExpertSnapshot | PhaseMarker | GpuDeepSample | NicSample | SchedLogSample | ProfileSummary;
export type TelemetryKind = TelemetryRecord['kind'];
export const TELEMETRY_KINDS: readonly TelemetryKind[] = ['gpu', 'server', 'experts', 'phase', 'gpu-deep', 'nic', 'sched', 'profile'];
