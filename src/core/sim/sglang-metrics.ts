import { Counter, Gauge, Histogram, Registry, Summary, type Labels } from './prometheus';
import type { ServerShape } from './shape';
import { familySpec, QUEUE_BUCKETS_CURRENT_SEC, QUEUE_BUCKETS_LEGACY_SEC, PER_STAGE_BUCKETS_SEC, type SglangMetricLayout } from '../telemetry/server/sglang-metric-sets';

/**
 * A KV-transfer family as the claimed SGLang layout declares it: a histogram (every request
 * observed) since PR #19009, a most-recent gauge before it. Same name either way.
 */
export class KvFamily {
  constructor(private readonly metric: Gauge | Histogram) {}
  record(labels: Labels, value: number): void {
    if (this.metric instanceof Histogram) this.metric.observe(labels, value);
    else this.metric.set(labels, value);
  }
  touch(labels: Labels): void {
    if (this.metric instanceof Histogram) this.metric.touch(labels);
    else this.metric.set(labels, 0);
  }
}

/** Default buckets from SGLang's TokenizerMetricsCollector (python/sglang/srt/metrics/collector.py). */
export const TTFT_BUCKETS_SEC = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400];
export const ITL_BUCKETS_SEC = [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0];
export const E2E_BUCKETS_SEC = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400];
export const QUEUE_TIME_BUCKETS_SEC = QUEUE_BUCKETS_LEGACY_SEC;

/**
 * SGLang's Prometheus metrics (names, types, labels) for one emulated server. Scheduler-side
 * series carry model_name, engine_type, tp_rank, pp_rank, moe_ep_rank and dp_rank (one series
 * per DP rank, as DP-attention servers report); request-side series carry model_name and
 * engine_type. One extra gauge, `moebench:simulated`, labels the whole scrape as emulated.
 * `layout` picks the SGLang metrics layout to claim (see telemetry/server/sglang-metric-sets.ts):
 * KV-transfer families as gauges or histograms, `is_streaming` / `cache_source` labels, and the
 * prefill bootstrap queue gauge's name.
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
  readonly kvTransferLatencyMs?: KvFamily;
  readonly kvTransferSpeedGbS?: KvFamily;
  readonly kvTransferBootstrapMs?: KvFamily;
  readonly kvTransferAllocMs?: KvFamily;
  readonly kvTransferTotalMb?: KvFamily;
  readonly kvTransferTimeouts?: Counter;
  readonly numPrefillRetries?: Counter;
  readonly perStageLatency: Histogram;
  readonly specAcceptLength: Gauge;
  readonly specAcceptRate: Gauge;
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

  constructor(
    shape: ServerShape,
    readonly layout: SglangMetricLayout = 'current',
  ) {
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
    this.specAcceptLength = g('sglang:spec_accept_length', familySpec(layout, 'sglang:spec_accept_length')?.help ?? '');
    this.specAcceptRate = g('sglang:spec_accept_rate', familySpec(layout, 'sglang:spec_accept_rate')?.help ?? '');
    if (shape.role === 'prefill') {
      // renamed to num_prefill_bootstrap_queue_reqs in the observability/ layout
      this.numPrefillPreallocQueueReqs =
        layout === 'current' ? g('sglang:num_prefill_bootstrap_queue_reqs', 'The number of requests in the prefill bootstrap queue.') : g('sglang:num_prefill_prealloc_queue_reqs', 'The number of requests in the prefill prealloc queue.');
      this.numPrefillInflightQueueReqs = g('sglang:num_prefill_inflight_queue_reqs', 'The number of requests in the prefill inflight queue.');
    }
    if (shape.role === 'decode') {
      this.numDecodePreallocQueueReqs = g('sglang:num_decode_prealloc_queue_reqs', 'The number of requests in the decode prealloc queue.');
      this.numDecodeTransferQueueReqs = g('sglang:num_decode_transfer_queue_reqs', 'The number of requests in the decode transfer queue.');
    }
    if (shape.role !== 'unified') {
      this.numBootstrapFailedReqs = c('sglang:num_bootstrap_failed_reqs', 'The number of bootstrap failed requests.');
      this.numTransferFailedReqs = c('sglang:num_transfer_failed_reqs', 'The number of transfer failed requests.');
      const kv = (name: string): KvFamily => {
        const spec = familySpec(layout, name);
        if (!spec) throw new Error(`no ${name} in the ${layout} SGLang metric set`);
        return new KvFamily(spec.type === 'histogram' ? r.add(new Histogram(name, spec.help, spec.buckets ?? [])) : g(name, spec.help));
      };
      this.kvTransferSpeedGbS = kv('sglang:kv_transfer_speed_gb_s');
      this.kvTransferLatencyMs = kv('sglang:kv_transfer_latency_ms');
      this.kvTransferBootstrapMs = kv('sglang:kv_transfer_bootstrap_ms');
      this.kvTransferAllocMs = kv('sglang:kv_transfer_alloc_ms');
      this.kvTransferTotalMb = kv('sglang:kv_transfer_total_mb');
      if (layout === 'current') {
        this.numPrefillRetries = c('sglang:num_prefill_retries', 'Total number of prefill retries.');
        this.kvTransferTimeouts = r.add(new Counter('sglang:kv_transfer_timeouts', 'KV timeout observations per sender/receiver, not unique failed requests.'));
      }
    }
    this.queueTimeSeconds = r.add(new Histogram('sglang:queue_time_seconds', 'Histogram of queueing time in seconds.', layout === 'current' ? QUEUE_BUCKETS_CURRENT_SEC : QUEUE_BUCKETS_LEGACY_SEC));
    this.perStageLatency = r.add(new Histogram('sglang:per_stage_req_latency_seconds', 'The latency of each stage of requests.', PER_STAGE_BUCKETS_SEC));
    this.realtimeTokens = c('sglang:realtime_tokens', 'Number of tokens processed, by mode.');
    this.gpuExecutionSeconds = c('sglang:gpu_execution_seconds', 'GPU execution time by category.');
    this.eplbBalancedness = r.add(new Summary('sglang:eplb_balancedness', 'Balancedness of MoE in expert parallelism (mean over GPUs / max over GPUs).'));
    this.engineStartupTime = g('sglang:engine_startup_time', 'The engine startup time (s).');

    this.promptTokens = c('sglang:prompt_tokens', 'Number of prefill tokens processed.');
    this.generationTokens = c('sglang:generation_tokens', 'Number of generation tokens processed.');
    this.cachedTokens = c('sglang:cached_tokens', layout === 'current' ? 'Number of cached prompt tokens by source (device/host/storage).' : 'Number of cached prompt tokens.');
    this.numRequests = c('sglang:num_requests', 'Number of requests processed.');
    this.numAbortedRequests = c('sglang:num_aborted_requests', 'Number of requests aborted.');
    this.numSoRequests = c('sglang:num_so_requests', 'Number of structured output requests processed.');
    this.ttft = r.add(new Histogram('sglang:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS_SEC));
    this.itl = r.add(new Histogram('sglang:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS_SEC));
    this.e2e = r.add(new Histogram('sglang:e2e_request_latency_seconds', 'Histogram of End-to-end request latency in seconds', E2E_BUCKETS_SEC));

    // series exist from the start, as SGLang's collectors register them at init
    for (const l of this.rankLabels) {
      for (const gauge of [this.numRunningReqs, this.numUsedTokens, this.tokenUsage, this.genThroughput, this.numQueueReqs, this.numGrammarQueueReqs, this.cacheHitRate, this.decodeSumSeqLens, this.utilization, this.newTokenRatio, this.isCudaGraph, this.numRetractedReqs]) gauge.set(l, 0);
      for (const gauge of [this.numPrefillPreallocQueueReqs, this.numPrefillInflightQueueReqs, this.numDecodePreallocQueueReqs, this.numDecodeTransferQueueReqs, this.specAcceptLength, this.specAcceptRate]) gauge?.set(l, 0);
      for (const kv of [this.kvTransferLatencyMs, this.kvTransferSpeedGbS, this.kvTransferBootstrapMs, this.kvTransferAllocMs, this.kvTransferTotalMb]) kv?.touch(l);
      this.numBootstrapFailedReqs?.touch(l);
      this.numTransferFailedReqs?.touch(l);
      this.numPrefillRetries?.touch(l);
      this.queueTimeSeconds.touch(l);
    }
    // kv_transfer_metrics.py pre-seeds both stages with 0 (process-local: no rank labels)
    for (const stage of ['bootstrap', 'transfer']) this.kvTransferTimeouts?.touch({ stage });
    for (const counter of [this.numAbortedRequests, this.numSoRequests]) counter.touch(this.requestLabels);
    this.itl.touch(this.requestLabels);
    for (const streaming of layout === 'current' ? [false, true] : [false]) {
      const l = this.streamLabels(streaming);
      for (const counter of [this.promptTokens, this.generationTokens, this.numRequests]) counter.touch(l);
      for (const h of [this.ttft, this.e2e]) h.touch(l);
    }
    if (layout === 'legacy') this.cachedTokens.touch(this.requestLabels);
  }

  /** request labels plus `is_streaming`, which the observability/ layout adds to token counters and TTFT/E2E */
  streamLabels(streaming: boolean): Labels {
    return this.layout === 'current' ? { ...this.requestLabels, is_streaming: streaming ? 'true' : 'false' } : this.requestLabels;
  }

  /** TokenizerMetricsCollector.observe_one_finished_request for the claimed layout */
  observeFinished(r: { promptTokens: number; outputTokens: number; cachedTokens: number; e2eSec: number; streaming: boolean }): void {
    const l = this.streamLabels(r.streaming);
    this.numRequests.inc(l);
    this.promptTokens.inc(l, r.promptTokens);
    this.generationTokens.inc(l, r.outputTokens);
    // both layouts only count cached tokens when there are some; the current one labels the source
    if (r.cachedTokens > 0) this.cachedTokens.inc(this.layout === 'current' ? { ...this.requestLabels, cache_source: 'device' } : this.requestLabels, r.cachedTokens);
    this.e2e.observe(l, r.e2eSec);
  }

  observeFirstToken(seconds: number, streaming: boolean): void {
    this.ttft.observe(this.streamLabels(streaming), seconds);
  }

  render(): string {
    return this.registry.render();
  }
}
