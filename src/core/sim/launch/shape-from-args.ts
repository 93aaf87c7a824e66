import type { ServerShape } from '../shape';
import { defaultShape } from '../shape';
import { DEEPSEEK_V3 } from '../engine/perf-model';

/** A startup failure SGLang reports with a traceback and exit status 1 (assertions in ServerArgs). */
export class LaunchAssertionError extends Error {
  constructor(
    message: string,
    readonly pythonType = 'AssertionError',
  ) {
    super(message);
    this.name = 'LaunchAssertionError';
  }
}

function assert(cond: boolean, message: string): void {
  if (!cond) throw new LaunchAssertionError(message);
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
const bool = (v: unknown): boolean => v === true;

/** backends that force ep_size = tp_size (server_args.py @8905cbd) */
const EP_FORCING_BACKENDS = new Set(['deepep', 'mooncake', 'nixl', 'mori', 'flashinfer', 'megamoe', 'ascend_fuseep']);

/**
 * ServerArgs post-init of the flags that shape a deployment, with the assertions SGLang makes
 * (reference sglang-launch.md §3). `values` are argparse dests -> parsed values.
 */
export function shapeFromArgs(values: Record<string, unknown>): ServerShape {
  const tp = num(values.tp_size, 1);
  const pp = num(values.pp_size, 1);
  let dp = num(values.dp_size, 1);
  const nnodes = num(values.nnodes, 1);
  let dpAttention = bool(values.enable_dp_attention);
  if (dp === 1) dpAttention = false;
  const backend = str(values.moe_a2a_backend, 'none');
  let ep = num(values.ep_size, 1);
  if (EP_FORCING_BACKENDS.has(backend)) ep = tp;
  const role = str(values.disaggregation_mode, 'null');
  const redundant = num(values.ep_num_redundant_experts, 0);
  const enableEplb = bool(values.enable_eplb);
  const rebalanceIters = num(values.eplb_rebalance_num_iterations, 1000);
  const served = str(values.served_model_name, str(values.model_path, ''));

  assert((tp * pp) % nnodes === 0, `tp_size (${tp}) * pp_size (${pp}) must be divisible by nnodes (${nnodes})`);
  if (dpAttention) assert(tp % dp === 0, `tp_size (${tp}) must be divisible by dp_size (${dp}) when DP attention is enabled`);
  assert(!(dp > 1 && nnodes > 1 && !dpAttention), 'multi-node data parallel is not supported unless dp attention!');
  if (bool(values.enable_dp_lm_head)) assert(dpAttention, 'enable_dp_lm_head requires enable_dp_attention');
  const denseTp = values.moe_dense_tp_size;
  assert(denseTp === null || denseTp === undefined || denseTp === 1 || denseTp === tp, `moe_dense_tp_size only supports 1 and None currently (got ${String(denseTp)})`);
  if (enableEplb) assert(ep > 1, 'EPLB requires ep_size > 1');
  if (ep > 1) {
    const physical = DEEPSEEK_V3.routedExperts + redundant;
    assert(physical % ep === 0, `num_physical_experts (${physical} = ${DEEPSEEK_V3.routedExperts} routed + ${redundant} redundant) must be divisible by ep_size (${ep})`);
  }
  assert(!(role === 'prefill' && values.disaggregation_transfer_backend === 'fake'), 'fake transfer backend is only supported on decode servers (--disaggregation-mode decode)');
  assert(!served.includes(':'), `served_model_name cannot contain a colon (':') character. The colon is reserved for the 'model:adapter' syntax. Got: '${served}'`);
  let recorderMode = typeof values.expert_distribution_recorder_mode === 'string' ? values.expert_distribution_recorder_mode : null;
  if ((enableEplb || bool(values.enable_expert_distribution_metrics)) && recorderMode === null) recorderMode = 'stat';
  const bufferSize = num(values.expert_distribution_recorder_buffer_size, enableEplb ? rebalanceIters : 1000);
  if (enableEplb) assert(rebalanceIters >= bufferSize, `eplb_rebalance_num_iterations (${rebalanceIters}) must be >= expert_distribution_recorder_buffer_size (${bufferSize})`);
  if (!dpAttention) dp = Math.max(1, dp);
  const chunkGlobal = num(values.chunked_prefill_size, 8192);
  // SGLang divides the global chunk over DP-attention ranks
  const chunkPerRank = dpAttention ? Math.max(1, Math.floor(chunkGlobal / dp)) : chunkGlobal;
  const isDecode = role === 'decode';
  return defaultShape({
    role: role === 'prefill' ? 'prefill' : isDecode ? 'decode' : 'unified',
    modelPath: str(values.model_path, ''),
    servedModelName: served,
    host: str(values.host, '127.0.0.1'),
    port: num(values.port, 30000),
    tpSize: tp,
    dpSize: dpAttention ? dp : 1,
    epSize: ep,
    nnodes,
    nodeRank: num(values.node_rank, 0),
    baseGpuId: num(values.base_gpu_id, 0),
    enableDpAttention: dpAttention,
    moeA2aBackend: backend,
    deepepMode: (['auto', 'normal', 'low_latency'] as const).find((m) => m === values.deepep_mode) ?? 'auto',
    enableEplb,
    eplbRebalanceNumIterations: rebalanceIters,
    epNumRedundantExperts: redundant,
    initExpertLocation: str(values.init_expert_location, 'trivial'),
    enableTwoBatchOverlap: bool(values.enable_two_batch_overlap),
    chunkedPrefillSizePerRank: chunkPerRank,
    maxRunningRequests: num(values.max_running_requests, 4096),
    maxTotalTokens: typeof values.max_total_tokens === 'number' ? values.max_total_tokens : null,
    memFractionStatic: num(values.mem_fraction_static, 0.85),
    contextLength: num(values.context_length, 163840),
    disaggregationBootstrapPort: num(values.disaggregation_bootstrap_port, 8998),
    disaggregationTransferBackend: str(values.disaggregation_transfer_backend, 'mooncake'),
    enableMetrics: bool(values.enable_metrics),
    expertDistributionRecorderMode: recorderMode,
    expertDistributionRecorderBufferSize: bufferSize,
    decodeLogInterval: num(values.decode_log_interval, 40),
    enableRequestTimeStatsLogging: bool(values.enable_request_time_stats_logging),
    distInitAddr: typeof values.dist_init_addr === 'string' ? values.dist_init_addr : null,
    apiKey: typeof values.api_key === 'string' ? values.api_key : null,
    enableCacheReport: bool(values.enable_cache_report),
    // PD decode servers run without the radix cache unless asked (server_args.py)
    disableRadixCache: bool(values.disable_radix_cache) || (isDecode && !bool(values.disaggregation_decode_enable_radix_cache)),
    numReservedDecodeTokens: num(values.num_reserved_decode_tokens, 512),
    serverArgs: { ...values },
  });
}
