/**
 * The compact list of `vllm serve` flags the planner emits or users commonly pass, for hover,
 * completion and spelling checks. Not vLLM's whole CLI: a flag missing here is reported as
 * "not in MoE Bench's vLLM list" (a warning), never as an error.
 * Source: docs.vllm.ai serving/expert_parallel_deployment (v0.10.1.1, v0.12.0, latest) and
 * vllm/config/parallel.py as rendered there (ParallelConfig, EPLBConfig, All2AllBackend).
 */
export interface VllmFlagRow {
  flag: string;
  aliases?: string[];
  type: string;
  default: string;
  choices?: string[];
  help: string;
  /** first release known to accept it (absent: old enough for every release we plan for) */
  since?: string;
  /** release from which it is gone (replaced by `replacement`) */
  removedIn?: string;
  replacement?: string;
}

export const VLLM_FLAGS: readonly VllmFlagRow[] = [
  { flag: '--host', type: 'str', default: 'None', help: 'Bind address of the API server.' },
  { flag: '--port', type: 'int', default: '8000', help: 'HTTP port of the API server.' },
  { flag: '--served-model-name', type: 'list[str]', default: 'None', help: 'Model name(s) reported by /v1/models.' },
  { flag: '--trust-remote-code', type: 'flag', default: 'False', help: 'Allow custom model code from the checkpoint.' },
  { flag: '--tensor-parallel-size', aliases: ['-tp'], type: 'int', default: '1', help: 'Tensor-parallel size of each DP rank.' },
  { flag: '--pipeline-parallel-size', aliases: ['-pp'], type: 'int', default: '1', help: 'Pipeline-parallel size.' },
  { flag: '--data-parallel-size', aliases: ['-dp'], type: 'int', default: '1', help: 'Data-parallel size; MoE layers shard over tp x dp.' },
  { flag: '--data-parallel-size-local', aliases: ['-dpl'], type: 'int', default: 'None', help: 'DP ranks that run on this node.' },
  { flag: '--data-parallel-start-rank', aliases: ['-dpr'], type: 'int', default: 'None', help: 'First DP rank on this node (secondary nodes).' },
  { flag: '--data-parallel-address', aliases: ['-dpa'], type: 'str', default: 'None', help: 'Address of the DP master (node 0).' },
  { flag: '--data-parallel-rpc-port', aliases: ['-dpp'], type: 'int', default: 'None', help: 'Port for DP RPC messaging.' },
  { flag: '--headless', type: 'flag', default: 'False', help: 'Run engine cores only, without an API server (secondary DP nodes).' },
  { flag: '--api-server-count', type: 'int', default: '1', help: 'API server processes on this node.' },
  { flag: '--enable-expert-parallel', type: 'flag', default: 'False', help: 'Expert parallelism for MoE layers (EP size = tp x dp).' },
  {
    flag: '--all2all-backend',
    type: 'str',
    default: 'allgather_reducescatter',
    choices: ['naive', 'pplx', 'deepep_high_throughput', 'deepep_low_latency', 'allgather_reducescatter', 'flashinfer_all2allv'],
    help: 'MoE all-to-all backend (before it existed: env VLLM_ALL2ALL_BACKEND).',
    since: '0.11.0',
  },
  { flag: '--enable-eplb', type: 'flag', default: 'False', help: 'Expert-parallel load balancing.' },
  { flag: '--eplb-config', type: 'JSON string', default: 'None', help: 'EPLB settings: window_size, step_interval, num_redundant_experts, log_balancedness.', since: '0.10.2' },
  { flag: '--num-redundant-experts', type: 'int', default: '0', help: 'Redundant experts for EPLB (spelling before --eplb-config).', replacement: '--eplb-config \'{"num_redundant_experts": N}\'' },
  { flag: '--enable-dbo', type: 'flag', default: 'False', help: 'Dual-batch overlap (vLLM\'s two-batch overlap).', since: '0.11.0' },
  { flag: '--gpu-memory-utilization', type: 'float', default: '0.9', help: 'Fraction of GPU memory vLLM may use.' },
  { flag: '--max-num-seqs', type: 'int', default: 'None', help: 'Max concurrently running sequences per DP rank.' },
  { flag: '--max-num-batched-tokens', type: 'int', default: 'None', help: 'Token budget of one scheduler step (chunked prefill size).' },
  { flag: '--max-model-len', type: 'int', default: 'None', help: 'Context length.' },
  { flag: '--enable-chunked-prefill', type: 'flag', default: 'None', help: 'Chunked prefill (on by default in V1).' },
  { flag: '--no-enable-prefix-caching', type: 'flag', default: 'False', help: 'Turn prefix caching off.' },
  { flag: '--enforce-eager', type: 'flag', default: 'False', help: 'No CUDA graphs.' },
  { flag: '--compilation-config', aliases: ['-O'], type: 'JSON string', default: 'None', help: 'torch.compile / CUDA-graph settings, e.g. {"cudagraph_capture_sizes": [...]}.' },
  { flag: '--kv-transfer-config', type: 'JSON string', default: 'None', help: 'KV connector for disaggregated prefill.' },
  { flag: '--disable-log-requests', type: 'flag', default: 'False', help: 'Do not log every request.' },
];
