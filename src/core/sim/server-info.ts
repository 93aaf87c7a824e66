import { defaultServerArgs } from './launch/server-args';
import type { ServerShape } from './shape';
import type { MemoryPlan } from './engine/memory';
import { DEEPSEEK_V3 } from './engine/perf-model';

export const SIM_SGLANG_VERSION = '0.5.15';

/** ServerArgs fields as the shape decides them (snake_case, SGLang's names) */
export function serverArgsOf(shape: ServerShape): Record<string, unknown> {
  return {
    ...defaultServerArgs(),
    ...shape.serverArgs,
    model_path: shape.modelPath,
    tokenizer_path: shape.serverArgs.tokenizer_path ?? shape.modelPath,
    served_model_name: shape.servedModelName,
    host: shape.host,
    port: shape.port,
    tp_size: shape.tpSize,
    dp_size: shape.dpSize,
    ep_size: shape.epSize,
    nnodes: shape.nnodes,
    node_rank: shape.nodeRank,
    enable_dp_attention: shape.enableDpAttention,
    moe_a2a_backend: shape.moeA2aBackend,
    deepep_mode: shape.deepepMode,
    enable_eplb: shape.enableEplb,
    eplb_rebalance_num_iterations: shape.eplbRebalanceNumIterations,
    ep_num_redundant_experts: shape.epNumRedundantExperts,
    init_expert_location: shape.initExpertLocation,
    enable_two_batch_overlap: shape.enableTwoBatchOverlap,
    chunked_prefill_size: shape.chunkedPrefillSizePerRank,
    max_running_requests: shape.maxRunningRequests,
    max_total_tokens: shape.maxTotalTokens,
    mem_fraction_static: shape.memFractionStatic,
    context_length: shape.contextLength,
    disaggregation_mode: shape.role === 'unified' ? 'null' : shape.role,
    disaggregation_bootstrap_port: shape.disaggregationBootstrapPort,
    disaggregation_transfer_backend: shape.disaggregationTransferBackend,
    enable_metrics: shape.enableMetrics,
    expert_distribution_recorder_mode: shape.expertDistributionRecorderMode,
    expert_distribution_recorder_buffer_size: shape.expertDistributionRecorderBufferSize,
    decode_log_interval: shape.decodeLogInterval,
    dist_init_addr: shape.distInitAddr,
    api_key: shape.apiKey === null ? null : '***',
    enable_cache_report: shape.enableCacheReport,
    disable_radix_cache: shape.disableRadixCache,
    num_reserved_decode_tokens: shape.numReservedDecodeTokens,
  };
}

export interface RankState {
  lastGenThroughput: number;
  load: number;
}

/** GET /server_info: server args + scheduler info + internal_states per DP rank + version. */
export function buildServerInfo(shape: ServerShape, memory: MemoryPlan, ranks: RankState[], extra: { seed: number; zeroCost: boolean; version?: string; avgSpecAcceptLength?: number }): Record<string, unknown> {
  const args = serverArgsOf(shape);
  const GiB = 1024;
  const internal = ranks.map((r) => ({
    ...args,
    last_gen_throughput: r.lastGenThroughput,
    memory_usage: {
      weight: Math.round((memory.weightsMiB / GiB) * 100) / 100,
      kvcache: Math.round((memory.kvPoolMiB / GiB) * 100) / 100,
      token_capacity: memory.kvTokensPerRank,
      cuda_graph: 1.5,
    },
    load: r.load,
    // only once speculative decoding has verified something (scheduler get_internal_state; see reference/sglang-api-bench.md)
    ...(extra.avgSpecAcceptLength !== undefined ? { avg_spec_accept_length: extra.avgSpecAcceptLength } : {}),
  }));
  return {
    ...args,
    max_total_num_tokens: memory.kvTokensPerRank,
    max_req_input_len: Math.min(shape.contextLength - 1, memory.kvTokensPerRank - 1),
    internal_states: internal,
    version: extra.version ?? SIM_SGLANG_VERSION,
    simulated: true,
    moebench_sim: { seed: extra.seed, zero_cost: extra.zeroCost, model: 'DeepSeek-V3 performance model', experts: DEEPSEEK_V3.routedExperts, moe_layers: DEEPSEEK_V3.moeLayers },
  };
}

/** GET /model_info */
export function buildModelInfo(shape: ServerShape): Record<string, unknown> {
  return {
    model_path: shape.modelPath,
    tokenizer_path: shape.modelPath,
    is_generation: true,
    preferred_sampling_params: null,
    weight_version: 'default',
    has_image_understanding: false,
    has_audio_understanding: false,
    model_type: 'deepseek_v3',
    architectures: ['DeepseekV3ForCausalLM'],
    simulated: true,
  };
}

/** GET /v1/models */
export function buildModelList(shape: ServerShape, createdSec: number): Record<string, unknown> {
  return { object: 'list', data: [modelCard(shape, createdSec)] };
}

export function modelCard(shape: ServerShape, createdSec: number): Record<string, unknown> {
  return { id: shape.servedModelName, object: 'model', created: createdSec, owned_by: 'sglang (moebench simulated)', root: shape.modelPath, parent: null, max_model_len: shape.contextLength };
}
