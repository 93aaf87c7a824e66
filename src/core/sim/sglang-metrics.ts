import { Counter, Gauge, Histogram, Registry, Summary, type Labels } from './prometheus';
import type { ServerShape } from './shape';

/** Default buckets from SGLang's TokenizerMetricsCollector (python/sglang/srt/metrics/collector.py). */
export const TTFT_BUCKETS_SEC = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400];
export const ITL_BUCKETS_SEC = [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0];
export const E2E_BUCKETS_SEC = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400];
export const QUEUE_TIME_BUCKETS_SEC = [0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000];

/**
 * SGLang's Prometheus metrics (names, types, labels) for one emulated server. Scheduler-side
 * series carry model_name, engine_type, tp_rank, pp_rank, moe_ep_rank and dp_rank (one series
 * per DP rank, as DP-attention servers report); request-side series carry model_name and
 * engine_type. One extra gauge, `moebench:simulated`, labels the whole scrape as emulated.
 */
export class SglangMetrics {
  readonly registry = new Registry();
  readonly requestLabels: Labels;
  readonly rankLabels: Labels[];

  // scheduler
  readonly numRunningReqs: Gauge;
  readonly numUsedTokens: Gauge;
  readonly tokenUsage: Gauge;
  readonly genThroughput: Gauge;
  readonly numQueueReqs: Gauge;
  readonly numGrammarQueueReqs: Gauge;
  readonly cacheHitRate: Gauge;
  readonly maxTotalNumTokens: Gauge;
  readonly decodeSumSeqLens: Gauge;
  readonly utilization: Gauge;
  readonly newTokenRatio: Gauge;
  readonly isCudaGraph: Gauge;
  readonly numRetractedReqs: Gauge;
  readonly numPrefillPreallocQueueReqs?: Gauge;
  readonly numPrefillInflightQueueReqs?: Gauge;
  readonly numDecodePreallocQueueReqs?: Gauge;
  readonly numDecodeTransferQueueReqs?: Gauge;
  readonly numBootstrapFailedReqs?: Counter;
  readonly numTransferFailedReqs?: Counter;
  readonly kvTransferLatencyMs?: Gauge;
  readonly kvTransferSpeedGbS?: Gauge;
  readonly queueTimeSeconds: Histogram;
  readonly realtimeTokens: Counter;
  readonly gpuExecutionSeconds: Counter;
  readonly eplbBalancedness: Summary;
  readonly engineStartupTime: Gauge;

  // tokenizer / request
  readonly promptTokens: Counter;
  readonly generationTokens: Counter;
  readonly cachedTokens: Counter;
  readonly numRequests: Counter;
  readonly numAbortedRequests: Counter;
  readonly numSoRequests: Counter;
  readonly ttft: Histogram;
  readonly itl: Histogram;
  readonly e2e: Histogram;

  constructor(shape: ServerShape) {
    const engineType = shape.role;
    this.requestLabels = { model_name: shape.servedModelName, engine_type: engineType };
    this.rankLabels = [];
    const dpRanks = Math.max(1, shape.dpSize);
    const attnTp = Math.max(1, Math.floor(shape.tpSize / dpRanks));
    for (let dp = 0; dp < dpRanks; dp++) {
      const tpRank = dp * attnTp;
      const moeEpRank = shape.epSize > 1 ? tpRank % shape.epSize : 0;
      const labels: Record<string, string> = { model_name: shape.servedModelName, engine_type: engineType, tp_rank: String(tpRank), pp_rank: '0', moe_ep_rank: String(moeEpRank) };
      if (shape.dpSize > 1) labels.dp_rank = String(dp);
      this.rankLabels.push(labels);
    }
    const r = this.registry;
    const g = (name: string, help: string) => r.add(new Gauge(name, help));
    const c = (name: string, help: string) => r.add(new Counter(name, help));

    r.add(new Gauge('moebench:simulated', 'This server is the MoE Bench emulator, not a real SGLang engine (1 = simulated).')).set({ model_name: shape.servedModelName, engine_type: engineType }, 1);
    this.numRunningReqs = g('sglang:num_running_reqs', 'The number of running requests.');
    this.numUsedTokens = g('sglang:num_used_tokens', 'The number of used tokens.');
    this.tokenUsage = g('sglang:token_usage', 'The token usage.');
    this.genThroughput = g('sglang:gen_throughput', 'The generation throughput (token/s).');
    this.numQueueReqs = g('sglang:num_queue_reqs', 'The number of requests in the waiting queue.');
    this.numGrammarQueueReqs = g('sglang:num_grammar_queue_reqs', 'The number of requests in the grammar waiting queue.');
    this.cacheHitRate = g('sglang:cache_hit_rate', 'The prefix cache hit rate.');
    this.maxTotalNumTokens = g('sglang:max_total_num_tokens', 'Maximum total number of tokens in the KV cache pool.');
    this.decodeSumSeqLens = g('sglang:decode_sum_seq_lens', 'The sum of all sequence lengths in decode.');
    this.utilization = g('sglang:utilization', 'The utilization.');
    this.newTokenRatio = g('sglang:new_token_ratio', 'The new token ratio.');
    this.isCudaGraph = g('sglang:is_cuda_graph', 'Whether the batch is using CUDA graph.');
    this.numRetractedReqs = g('sglang:num_retracted_reqs', 'The number of retracted requests.');
    if (shape.role === 'prefill') {
      this.numPrefillPreallocQueueReqs = g('sglang:num_prefill_prealloc_queue_reqs', 'The number of requests in the prefill prealloc queue.');
      this.numPrefillInflightQueueReqs = g('sglang:num_prefill_inflight_queue_reqs', 'The number of requests in the prefill inflight queue.');
    }
    if (shape.role === 'decode') {
      this.numDecodePreallocQueueReqs = g('sglang:num_decode_prealloc_queue_reqs', 'The number of requests in the decode prealloc queue.');
      this.numDecodeTransferQueueReqs = g('sglang:num_decode_transfer_queue_reqs', 'The number of requests in the decode transfer queue.');
    }
    if (shape.role !== 'unified') {
      this.numBootstrapFailedReqs = c('sglang:num_bootstrap_failed_reqs', 'The number of bootstrap failed requests.');
      this.numTransferFailedReqs = c('sglang:num_transfer_failed_reqs', 'The number of transfer failed requests.');
      this.kvTransferLatencyMs = g('sglang:kv_transfer_latency_ms', 'The transfer latency of the KV cache (ms).');
      this.kvTransferSpeedGbS = g('sglang:kv_transfer_speed_gb_s', 'The transfer speed of the KV cache (GB/s).');
    }
    this.queueTimeSeconds = r.add(new Histogram('sglang:queue_time_seconds', 'Histogram of queueing time in seconds.', QUEUE_TIME_BUCKETS_SEC));
    this.realtimeTokens = c('sglang:realtime_tokens', 'Number of tokens processed, by mode.');
    this.gpuExecutionSeconds = c('sglang:gpu_execution_seconds', 'GPU execution time by category.');
    this.eplbBalancedness = r.add(new Summary('sglang:eplb_balancedness', 'Balancedness of MoE in expert parallelism (mean over GPUs / max over GPUs).'));
    this.engineStartupTime = g('sglang:engine_startup_time', 'The engine startup time (s).');

    this.promptTokens = c('sglang:prompt_tokens', 'Number of prefill tokens processed.');
    this.generationTokens = c('sglang:generation_tokens', 'Number of generation tokens processed.');
    this.cachedTokens = c('sglang:cached_tokens', 'Number of cached prompt tokens.');
    this.numRequests = c('sglang:num_requests', 'Number of requests processed.');
    this.numAbortedRequests = c('sglang:num_aborted_requests', 'Number of requests aborted.');
    this.numSoRequests = c('sglang:num_so_requests', 'Number of structured output requests processed.');
    this.ttft = r.add(new Histogram('sglang:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS_SEC));
    this.itl = r.add(new Histogram('sglang:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS_SEC));
    this.e2e = r.add(new Histogram('sglang:e2e_request_latency_seconds', 'Histogram of End-to-end request latency in seconds', E2E_BUCKETS_SEC));

    // series exist from the start, as SGLang's collectors register them at init
    for (const l of this.rankLabels) {
      for (const gauge of [this.numRunningReqs, this.numUsedTokens, this.tokenUsage, this.genThroughput, this.numQueueReqs, this.numGrammarQueueReqs, this.cacheHitRate, this.decodeSumSeqLens, this.utilization, this.newTokenRatio, this.isCudaGraph, this.numRetractedReqs]) gauge.set(l, 0);
      for (const gauge of [this.numPrefillPreallocQueueReqs, this.numPrefillInflightQueueReqs, this.numDecodePreallocQueueReqs, this.numDecodeTransferQueueReqs, this.kvTransferLatencyMs, this.kvTransferSpeedGbS]) gauge?.set(l, 0);
      this.numBootstrapFailedReqs?.touch(l);
      this.numTransferFailedReqs?.touch(l);
      this.queueTimeSeconds.touch(l);
    }
    for (const counter of [this.promptTokens, this.generationTokens, this.cachedTokens, this.numRequests, this.numAbortedRequests, this.numSoRequests]) counter.touch(this.requestLabels);
    for (const h of [this.ttft, this.itl, this.e2e]) h.touch(this.requestLabels);
  }

  render(): string {
    return this.registry.render();
  }
}
