/**
 * Where each normalized server field comes from, in SGLang and vLLM, old and new spellings.
 * Sources: SGLang `python/sglang/srt/metrics/collector.py` (@00ae9c15) and the older
 * `docs/references/production_metrics.md`; vLLM `vllm/v1/metrics/loggers.py` (@005a810b).
 * The first name present in a scrape wins, so list the newest spelling first.
 */
export type GaugeAgg = 'sum' | 'max' | 'mean';

export const GAUGES = {
  runningReqs: { agg: 'sum', names: ['sglang:num_running_reqs', 'vllm:num_requests_running'] },
  queuedReqs: { agg: 'sum', names: ['sglang:num_queue_reqs', 'vllm:num_requests_waiting'] },
  // vLLM deprecated gpu_cache_usage_perc in 0.9; both are 0..1 despite "perc". The fullest rank is the one that stalls.
  tokenUsage: { agg: 'max', names: ['sglang:token_usage', 'vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'] },
  usedTokens: { agg: 'sum', names: ['sglang:num_used_tokens'] },
  maxTotalTokens: { agg: 'sum', names: ['sglang:max_total_num_tokens'] },
  genThroughputTokPerSec: { agg: 'sum', names: ['sglang:gen_throughput'] },
  cacheHitRate: { agg: 'mean', names: ['sglang:cache_hit_rate'] },
  specAcceptLength: { agg: 'mean', names: ['sglang:spec_accept_length'] },
  // renamed to num_prefill_bootstrap_queue_reqs in observability/metrics_collector.py (@016d8605)
  prefillPreallocQueueReqs: { agg: 'sum', names: ['sglang:num_prefill_bootstrap_queue_reqs', 'sglang:num_prefill_prealloc_queue_reqs'] },
  prefillInflightQueueReqs: { agg: 'sum', names: ['sglang:num_prefill_inflight_queue_reqs'] },
  decodePreallocQueueReqs: { agg: 'sum', names: ['sglang:num_decode_prealloc_queue_reqs'] },
  decodeTransferQueueReqs: { agg: 'sum', names: ['sglang:num_decode_transfer_queue_reqs'] },
  // gauges only before SGLang PR #19009; KV_TRANSFER below reads the histograms that replaced them
  kvTransferSpeedGBps: { agg: 'mean', names: ['sglang:kv_transfer_speed_gb_s'] },
  kvTransferLatencyMs: { agg: 'mean', names: ['sglang:kv_transfer_latency_ms'] },
  kvTransferBootstrapMs: { agg: 'mean', names: ['sglang:kv_transfer_bootstrap_ms'] },
  kvTransferAllocMs: { agg: 'mean', names: ['sglang:kv_transfer_alloc_ms'] },
  kvTransferTotalMb: { agg: 'mean', names: ['sglang:kv_transfer_total_mb'] },
} as const satisfies Record<string, { agg: GaugeAgg; names: readonly string[] }>;

export const COUNTERS = {
  // SGLang counts per finished request; vLLM per engine step (tokens actually computed).
  promptTokens: ['sglang:prompt_tokens_total', 'vllm:prompt_tokens_total'],
  genTokens: ['sglang:generation_tokens_total', 'vllm:generation_tokens_total'],
  requests: ['sglang:num_requests_total', 'vllm:request_success_total'],
  prefixQueries: ['vllm:prefix_cache_queries_total', 'vllm:gpu_prefix_cache_queries_total'],
  prefixHits: ['vllm:prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits_total'],
} as const satisfies Record<string, readonly string[]>;

export const HISTOGRAMS = {
  ttft: ['sglang:time_to_first_token_seconds', 'vllm:time_to_first_token_seconds'],
  // SGLang renamed time_per_output_token_seconds to inter_token_latency_seconds; vLLM did the same later.
  itl: ['sglang:inter_token_latency_seconds', 'sglang:time_per_output_token_seconds', 'vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
  e2e: ['sglang:e2e_request_latency_seconds', 'vllm:e2e_request_latency_seconds'],
  queue: ['sglang:queue_time_seconds', 'vllm:request_queue_time_seconds'],
} as const satisfies Record<string, readonly string[]>;

/**
 * The five KV-transfer families, same names as the gauges above: when a scrape declares one a
 * histogram (`# TYPE`), the sample's value is Δsum/Δcount over the window instead.
 */
export const KV_TRANSFER_HISTOGRAMS = {
  kvTransferSpeedGBps: 'sglang:kv_transfer_speed_gb_s',
  kvTransferLatencyMs: 'sglang:kv_transfer_latency_ms',
  kvTransferBootstrapMs: 'sglang:kv_transfer_bootstrap_ms',
  kvTransferAllocMs: 'sglang:kv_transfer_alloc_ms',
  kvTransferTotalMb: 'sglang:kv_transfer_total_mb',
} as const;
export type KvTransferKey = keyof typeof KV_TRANSFER_HISTOGRAMS;

/** Summaries read as Δsum/Δcount. SGLang exports this only from moe_ep_rank 0, when enabled. */
export const SUMMARIES = {
  eplbBalancedness: ['sglang:eplb_balancedness'],
} as const satisfies Record<string, readonly string[]>;

export type GaugeKey = keyof typeof GAUGES;
export type CounterKey = keyof typeof COUNTERS;
export type HistogramKey = keyof typeof HISTOGRAMS;
export type SummaryKey = keyof typeof SUMMARIES;

/**
 * Other spellings of one name: `sglang_x` (exporters and relabelling that drop the colon) and a
 * counter without `_total` (prometheus_client before 0.4 did not append it).
 */
export function spellings(name: string, isCounter: boolean): string[] {
  const out = [name];
  const colon = name.indexOf(':');
  if (colon > 0) out.push(`${name.slice(0, colon)}_${name.slice(colon + 1)}`);
  if (isCounter && name.endsWith('_total')) for (const n of [...out]) out.push(n.slice(0, -'_total'.length));
  return out;
}

/** Every sample name the normalizer reads (for the parser's keep filter). */
export function wantedSampleNames(): Set<string> {
  const set = new Set<string>();
  for (const spec of Object.values(GAUGES)) for (const n of spec.names) for (const s of spellings(n, false)) set.add(s);
  for (const names of Object.values(COUNTERS)) for (const n of names) for (const s of spellings(n, true)) set.add(s);
  for (const names of [...Object.values(HISTOGRAMS), ...Object.values(SUMMARIES), ...Object.values(KV_TRANSFER_HISTOGRAMS).map((n) => [n])]) {
    for (const n of names) for (const s of spellings(n, false)) for (const suffix of ['_bucket', '_sum', '_count']) set.add(s + suffix);
  }
  return set;
}
