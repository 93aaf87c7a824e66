import type { ApiKind, RequestRecord } from '../load/types';
import { deriveRequest, type DerivedRequest, type MetricDefinition } from './definitions';
import { summarize, sum, type Stats } from './stats';

export interface SloSpec {
  ttftMs?: number;
  tpotMs?: number;
  e2eMs?: number;
}

export interface MetricsOptions {
  api: ApiKind;
  definition: MetricDefinition;
  /** wall duration the throughputs divide by (first dispatch to after the last response) */
  durationSec: number;
  /** percentiles reported besides mean/median/std, e.g. [90, 95, 99] */
  percentiles: readonly number[];
  slo?: SloSpec;
  /** accept length read from /server_info (speculative decoding), reported as is */
  acceptLength?: number | null;
}

/** SGLang's and vLLM's aggregate numbers, camelCase with units; `toSglangJson` gives bench_serving's keys. */
export interface RunSummary {
  schemaVersion: 1;
  definition: MetricDefinition;
  api: ApiKind;
  percentiles: number[];
  completed: number;
  failed: number;
  warmupRequests: number;
  durationSec: number;
  totalInputTokens: number;
  totalOutputTokens: number;
  /** req/s */
  requestThroughput: number;
  /** tok/s */
  inputThroughput: number;
  outputThroughput: number;
  totalThroughput: number;
  /** Σ latency / duration: the average number of requests in flight */
  concurrency: number;
  /** peak tokens in any one-second bucket (bench_serving's "Peak output token throughput") */
  maxOutputTokensPerSec: number;
  maxConcurrentRequests: number;
  /** completed requests meeting every SLO, per second; null without SLOs */
  requestGoodput: number | null;
  goodCompleted: number | null;
  acceptLength: number | null;
  ttftMs: Stats;
  tpotMs: Stats;
  itlMs: Stats;
  e2eMs: Stats;
  /** time waiting for a max-concurrency slot (vLLM's client_queue_time) */
  clientQueueMs: Stats;
  e2eIncludingQueueMs: Stats;
  /** how late each request left the client against its planned time */
  dispatchLagMs: Stats;
}

/** Per-second series for charts (bench_serving's peak-metric buckets). */
export interface RunSeries {
  outputTokensPerSec: number[];
  concurrentRequestsPerSec: number[];
}

export interface ComputedMetrics {
  summary: RunSummary;
  series: RunSeries;
  derived: DerivedRequest[];
}

export function computeMetrics(records: readonly RequestRecord[], options: MetricsOptions): ComputedMetrics {
  const { api, definition, percentiles } = options;
  const durationSec = options.durationSec;
  const measured = records.filter((r) => !r.warmup);
  const derived = measured.map((r) => deriveRequest(r, api, definition));
  const good = derived.filter((d) => d.ok);
  const completed = good.length;

  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2es: number[] = [];
  const queues: number[] = [];
  const e2eWithQueue: number[] = [];
  let totalInput = 0;
  let totalOutput = 0;
  for (const d of good) {
    totalInput += d.promptLen;
    totalOutput += d.outputLen;
    ttfts.push(d.ttftMs);
    if (d.tpotMs !== null) tpots.push(d.tpotMs);
    for (const x of d.itlMs) itls.push(x);
    e2es.push(d.latencyMs);
    queues.push(d.queueMs);
    e2eWithQueue.push(d.queueMs + d.latencyMs);
  }
  const lags = measured.map((r) => r.dispatchedMs - r.scheduledMs);
  const per = (x: number): number => (durationSec > 0 ? x / durationSec : 0);

  let goodCompleted: number | null = null;
  const slo = options.slo;
  if (slo && (slo.ttftMs !== undefined || slo.tpotMs !== undefined || slo.e2eMs !== undefined)) {
    goodCompleted = 0;
    for (const d of good) {
      // vLLM counts a request with <= 1 output token as TPOT 0 for goodput
      const tpot = d.tpotMs ?? 0;
      if (slo.ttftMs !== undefined && d.ttftMs > slo.ttftMs) continue;
      if (slo.tpotMs !== undefined && tpot > slo.tpotMs) continue;
      if (slo.e2eMs !== undefined && d.latencyMs > slo.e2eMs) continue;
      goodCompleted++;
    }
  }

  const series = perSecondSeries(good);
  const maxConcurrent = definition === 'vllm' ? sweepLineMaxConcurrency(good) : maxOf(series.concurrentRequestsPerSec);

  const summary: RunSummary = {
    schemaVersion: 1,
    definition,
    api,
    percentiles: [...percentiles],
    completed,
    failed: derived.length - completed,
    warmupRequests: records.length - measured.length,
    durationSec,
    totalInputTokens: totalInput,
    totalOutputTokens: totalOutput,
    requestThroughput: per(completed),
    inputThroughput: per(totalInput),
    outputThroughput: per(totalOutput),
    totalThroughput: per(totalInput + totalOutput),
    concurrency: per(sum(e2es) / 1000),
    maxOutputTokensPerSec: maxOf(series.outputTokensPerSec),
    maxConcurrentRequests: maxConcurrent,
    requestGoodput: goodCompleted === null ? null : per(goodCompleted),
    goodCompleted,
    acceptLength: options.acceptLength ?? null,
    // bench_serving: np.mean(ttfts or 0) -> an empty list reports 0, but E2E of nothing is NaN
    ttftMs: summarize(ttfts, percentiles, true),
    tpotMs: summarize(tpots, percentiles, true),
    itlMs: summarize(itls, percentiles, true),
    e2eMs: summarize(e2es, percentiles),
    clientQueueMs: summarize(queues, percentiles),
    e2eIncludingQueueMs: summarize(e2eWithQueue, percentiles),
    dispatchLagMs: summarize(lags, percentiles),
  };
  return { summary, series, derived };
}

function maxOf(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}

/**
 * bench_serving's peak metrics: one-second buckets from the earliest successful start; a token
 * lands at start + ttft + cumulative ITLs; a request counts in every bucket from its start second
 * to its end second inclusive.
 */
export function perSecondSeries(good: readonly DerivedRequest[]): RunSeries {
  if (good.length === 0) return { outputTokensPerSec: [], concurrentRequestsPerSec: [] };
  let minStart = Infinity;
  let maxEnd = -Infinity;
  for (const d of good) {
    minStart = Math.min(minStart, d.startMs);
    maxEnd = Math.max(maxEnd, d.startMs + d.latencyMs);
  }
  const buckets = Math.ceil((maxEnd - minStart) / 1000) + 1;
  const tokens = new Array<number>(buckets).fill(0);
  const concurrent = new Array<number>(buckets).fill(0);
  for (const d of good) {
    let t = (d.startMs + d.ttftMs - minStart) / 1000;
    const first = Math.trunc(t);
    if (first >= 0 && first < buckets) tokens[first]++;
    for (const gap of d.itlMs) {
      t += gap / 1000;
      const b = Math.trunc(t);
      if (b >= 0 && b < buckets) tokens[b]++;
    }
    const startSec = Math.trunc((d.startMs - minStart) / 1000);
    const endSec = Math.trunc((d.startMs + d.latencyMs - minStart) / 1000);
    for (let s = startSec; s < Math.min(endSec + 1, buckets); s++) concurrent[s]++;
  }
  return { outputTokensPerSec: tokens, concurrentRequestsPerSec: concurrent };
}

/** vLLM's exact peak: most requests overlapping at any instant over [start, end). */
export function sweepLineMaxConcurrency(good: readonly DerivedRequest[]): number {
  const events: [number, number][] = [];
  for (const d of good) {
    events.push([d.startMs, 1]);
    events.push([d.startMs + d.latencyMs, -1]);
  }
  // ends sort before starts at the same instant: [start, end) intervals
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, delta] of events) {
    cur += delta;
    if (cur > peak) peak = cur;
  }
  return peak;
}
