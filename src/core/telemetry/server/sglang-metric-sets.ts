import { compareVersions, isVersionText } from '../../util/version';

/**
 * SGLang's Prometheus families that the PD / cache / speculative views read, per SGLang
 * metrics layout, with names, types, extra labels and default buckets copied from source:
 *
 * - `legacy`: `python/sglang/srt/metrics/collector.py` at sgl-project/sglang@00ae9c1590d2d0bb6c0bfff39e312c34ae3dd538.
 *   The five KV-transfer families are `Gauge(multiprocess_mode="mostrecent")`; the prefill
 *   bootstrap queue gauge is `num_prefill_prealloc_queue_reqs`; `cached_tokens_total`,
 *   `prompt_tokens_total` and the TTFT/E2E histograms carry no extra label.
 * - `current`: `python/sglang/srt/observability/metrics_collector.py` at
 *   sgl-project/sglang@016d8605e45876180312e29d6988e1de06562472 (and
 *   `observability/kv_transfer_metrics.py` @44abd5cd387e0cb6058e62766cf110fdb1ac1066). PR #19009
 *   (https://github.com/sgl-project/sglang/pull/19009) turned the five KV-transfer gauges into
 *   histograms WITHOUT renaming them, so a reader must go by each family's `# TYPE` line, never
 *   by this table; the table is what the emulator exports and what tests pin.
 *
 * Which release carries which layout: PR #19009 was opened 2026-02-19 and merged after; v0.5.10
 * was out by 2026-04-06. We map releases below 0.5.10 to `legacy` and 0.5.10 onwards (and
 * `latest`) to `current`. The boundary release is inferred, not verified against a tag; the
 * reader does not depend on it (it reads `# TYPE`).
 */
export type SglangMetricLayout = 'legacy' | 'current';

export type FamilyType = 'gauge' | 'counter' | 'histogram' | 'summary';

export interface MetricFamilySpec {
  /** family name as declared (counters without `_total`, as prometheus_client declares them) */
  name: string;
  type: FamilyType;
  /** labels on top of the collector's base labels */
  extraLabels?: readonly string[];
  buckets?: readonly number[];
  help: string;
  /** which collector exports it (scheduler ranks, or the tokenizer manager) */
  collector: 'scheduler' | 'tokenizer';
}

/** exponential_buckets(start=0.001, width=1.62, length=30) from sglang/srt/metrics/utils.py */
export const PER_STAGE_BUCKETS_SEC: readonly number[] = Array.from({ length: 30 }, (_, i) => Number((0.001 * 1.62 ** i).toPrecision(12)));

const KV_LATENCY_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
const KV_BOOTSTRAP_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];
const KV_TOTAL_MB = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000];
const KV_SPEED_GBS = [0.1, 0.5, 1, 5, 10, 25, 50, 100, 200, 400];

/** queue_time_seconds buckets: legacy starts 0.0, 0.1, 0.2...; current adds 0.001 ... 0.05 */
const QUEUE_TAIL = [0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000];
export const QUEUE_BUCKETS_LEGACY_SEC: readonly number[] = [0, 0.1, ...QUEUE_TAIL];
export const QUEUE_BUCKETS_CURRENT_SEC: readonly number[] = [0, 0.001, 0.005, 0.01, 0.05, 0.1, ...QUEUE_TAIL];

/** the five families PR #19009 converted from gauge to histogram, names unchanged */
export const KV_TRANSFER_FAMILIES = ['sglang:kv_transfer_latency_ms', 'sglang:kv_transfer_bootstrap_ms', 'sglang:kv_transfer_alloc_ms', 'sglang:kv_transfer_total_mb', 'sglang:kv_transfer_speed_gb_s'] as const;

function kvTransfer(layout: SglangMetricLayout): MetricFamilySpec[] {
  const h = layout === 'current';
  const f = (name: string, buckets: number[], helpGauge: string, helpHist: string): MetricFamilySpec =>
    h ? { name, type: 'histogram', buckets, help: helpHist, collector: 'scheduler' } : { name, type: 'gauge', help: helpGauge, collector: 'scheduler' };
  return [
    f('sglang:kv_transfer_speed_gb_s', KV_SPEED_GBS, 'The transfer speed of the KV cache in GB/s.', 'Histogram of KV cache transfer speed in GB/s.'),
    f('sglang:kv_transfer_latency_ms', KV_LATENCY_MS, 'The transfer latency of the KV cache in ms.', 'Histogram of KV cache transfer latency in ms.'),
    f('sglang:kv_transfer_bootstrap_ms', KV_BOOTSTRAP_MS, 'The bootstrap time of the KV transfer in ms.', 'Histogram of KV transfer bootstrap time in ms.'),
    f('sglang:kv_transfer_alloc_ms', KV_BOOTSTRAP_MS, 'The allocation waiting time of the KV transfer in ms.', 'Histogram of KV transfer allocation waiting time in ms.'),
    f('sglang:kv_transfer_total_mb', KV_TOTAL_MB, 'The total number of tokens transferred in the KV cache.', 'Histogram of KV cache transfer size in MB.'),
  ];
}

function families(layout: SglangMetricLayout): MetricFamilySpec[] {
  const current = layout === 'current';
  const stream = current ? ['is_streaming'] : undefined;
  const out: MetricFamilySpec[] = [
    { name: current ? 'sglang:num_prefill_bootstrap_queue_reqs' : 'sglang:num_prefill_prealloc_queue_reqs', type: 'gauge', help: current ? 'The number of requests in the prefill bootstrap queue.' : 'The number of requests in the prefill prealloc queue.', collector: 'scheduler' },
    { name: 'sglang:num_bootstrap_failed_reqs', type: 'counter', help: 'The number of bootstrap failed requests.', collector: 'scheduler' },
    { name: 'sglang:num_transfer_failed_reqs', type: 'counter', help: 'The number of transfer failed requests.', collector: 'scheduler' },
    ...kvTransfer(layout),
    { name: 'sglang:queue_time_seconds', type: 'histogram', buckets: current ? QUEUE_BUCKETS_CURRENT_SEC : QUEUE_BUCKETS_LEGACY_SEC, help: 'Histogram of queueing time in seconds.', collector: 'scheduler' },
    { name: 'sglang:per_stage_req_latency_seconds', type: 'histogram', extraLabels: ['stage'], buckets: PER_STAGE_BUCKETS_SEC, help: 'The latency of each stage of requests.', collector: 'scheduler' },
    { name: 'sglang:spec_accept_length', type: 'gauge', help: current ? 'Mean acceptance length of speculative decoding (accepted drafts + bonus token per forward).' : 'The average acceptance length of speculative decoding.', collector: 'scheduler' },
    { name: 'sglang:spec_accept_rate', type: 'gauge', help: current ? 'Speculative acceptance rate (`accepted drafts / proposed drafts` in batch).' : 'The average acceptance rate of speculative decoding (`accepted tokens / total draft tokens` in batch).', collector: 'scheduler' },
    { name: 'sglang:prompt_tokens', type: 'counter', extraLabels: stream, help: 'Number of prefill tokens processed.', collector: 'tokenizer' },
    { name: 'sglang:generation_tokens', type: 'counter', extraLabels: stream, help: 'Number of generation tokens processed.', collector: 'tokenizer' },
    { name: 'sglang:cached_tokens', type: 'counter', extraLabels: current ? ['cache_source'] : undefined, help: current ? 'Number of cached prompt tokens by source (device/host/storage).' : 'Number of cached prompt tokens.', collector: 'tokenizer' },
    { name: 'sglang:num_requests', type: 'counter', extraLabels: stream, help: 'Number of requests processed.', collector: 'tokenizer' },
    { name: 'sglang:num_aborted_requests', type: 'counter', help: 'Number of requests aborted.', collector: 'tokenizer' },
    { name: 'sglang:time_to_first_token_seconds', type: 'histogram', extraLabels: stream, help: 'Histogram of time to first token in seconds.', collector: 'tokenizer' },
    { name: 'sglang:e2e_request_latency_seconds', type: 'histogram', extraLabels: stream, help: 'Histogram of End-to-end request latency in seconds', collector: 'tokenizer' },
  ];
  if (current) {
    out.push(
      { name: 'sglang:num_prefill_retries', type: 'counter', help: 'Total number of prefill retries.', collector: 'scheduler' },
      // kv_transfer_metrics.py: process-local, label `stage` only, both stages pre-seeded with 0
      { name: 'sglang:kv_transfer_timeouts', type: 'counter', extraLabels: ['stage'], help: 'KV timeout observations per sender/receiver, not unique failed requests.', collector: 'scheduler' },
    );
  }
  return out;
}

export const SGLANG_METRIC_SETS: Readonly<Record<SglangMetricLayout, readonly MetricFamilySpec[]>> = {
  legacy: families('legacy'),
  current: families('current'),
};

/** the source each layout was read from (shown in hovers and reports) */
export const SGLANG_METRIC_SOURCES: Readonly<Record<SglangMetricLayout, string>> = {
  legacy: 'sgl-project/sglang@00ae9c15 python/sglang/srt/metrics/collector.py',
  current: 'sgl-project/sglang@016d8605 python/sglang/srt/observability/metrics_collector.py',
};

/** first release carrying the histogram layout (inferred; see the file comment) */
export const KV_HISTOGRAM_SINCE = '0.5.10';

export function metricLayoutForVersion(version: string | undefined): SglangMetricLayout {
  if (!version || !isVersionText(version)) return 'current';
  return compareVersions(version, KV_HISTOGRAM_SINCE) >= 0 ? 'current' : 'legacy';
}

export function familySpec(layout: SglangMetricLayout, name: string): MetricFamilySpec | undefined {
  return SGLANG_METRIC_SETS[layout].find((f) => f.name === name);
}

/** `stage` values SGLang observes (observability/req_time_stats.py @00ce49e0; MoE Bench research notes sglang-metrics.md §3) into per_stage_req_latency_seconds (RequestStage, metrics_is_observed=True) */
export const OBSERVED_STAGES = ['request_process', 'prefill_forward', 'chunked_prefill', 'prefill_bootstrap', 'prefill_transfer_kv_cache', 'decode_prepare', 'decode_bootstrap', 'decode_waiting', 'decode_transferred', 'fake_output', 'quick_finish'] as const;
