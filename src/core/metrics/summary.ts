import type { ApiKind, RequestRecord } from './record';
import type { DerivedRequest, MetricDefinition } from './definitions';
import { summarizeInPlace, type Stats } from './stats';
import { RunColumns } from './columns';

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
  /** failures the client caused (file descriptors, local ports, its own limits); included in `failed` */
  clientErrors?: number;
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
  /** reasoning models only (some output had a thinking part): thinking apart from the answer */
  reasoning?: ReasoningSummary;
}

export interface ReasoningSummary {
  /** completed requests that thought first */
  thinkingRequests: number;
  /** thinking characters / all output characters */
  thinkingShare: number;
  /** output tokens split (server's reasoning_tokens where reported, else by character share) */
  thinkingTokens: number;
  answerTokens: number;
  /** requests that thought and never reached an answer (cut by max tokens) */
  noAnswer: number;
  /** time to first answer token, ms after the request was sent, over requests that thought and answered */
  ttfatMs: Stats;
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
  const cols = new RunColumns(options.api, options.definition);
  const derived: DerivedRequest[] = [];
  for (const r of records) {
    const d = cols.add(r);
    if (d) derived.push(d);
  }
  return { ...summarizeColumns(cols, options), derived };
}

/**
 * The run's aggregate numbers from its columns (see columns.ts): the one implementation behind
 * both an in-memory list of records and a run of millions streamed through workers.
 */
export function summarizeColumns(cols: RunColumns, options: MetricsOptions): { summary: RunSummary; series: RunSeries } {
  const { api, definition, percentiles } = options;
  const durationSec = options.durationSec;
  const g = cols.good;
  const completed = cols.goodCount;
  const ttft = g.ttft.toArray();
  const latency = g.latency.toArray();
  const tpotAll = g.tpot.toArray();
  const queue = g.queue.toArray();
  const promptLen = g.promptLen.toArray();
  const outputLen = g.outputLen.toArray();
  let totalInput = 0;
  let totalOutput = 0;
  let tpotCount = 0;
  for (let i = 0; i < completed; i++) {
    totalInput += promptLen[i];
    totalOutput += outputLen[i];
    if (!Number.isNaN(tpotAll[i])) tpotCount++;
  }
  const tpots = new Float64Array(tpotCount);
  const e2eWithQueue = new Float64Array(completed);
  let goodCompleted: number | null = null;
  const slo = options.slo;
  const withSlo = slo !== undefined && (slo.ttftMs !== undefined || slo.tpotMs !== undefined || slo.e2eMs !== undefined);
  if (withSlo) goodCompleted = 0;
  for (let i = 0, j = 0; i < completed; i++) {
    const tp = tpotAll[i];
    if (!Number.isNaN(tp)) tpots[j++] = tp;
    e2eWithQueue[i] = queue[i] + latency[i];
    if (withSlo && slo) {
      // vLLM counts a request with <= 1 output token as TPOT 0 for goodput
      const t = Number.isNaN(tp) ? 0 : tp;
      if (slo.ttftMs !== undefined && ttft[i] > slo.ttftMs) continue;
      if (slo.tpotMs !== undefined && t > slo.tpotMs) continue;
      if (slo.e2eMs !== undefined && latency[i] > slo.e2eMs) continue;
      goodCompleted = (goodCompleted ?? 0) + 1;
    }
  }
  const per = (x: number): number => (durationSec > 0 ? x / durationSec : 0);
  const series = perSecondSeriesOf(cols);
  const maxConcurrent = definition === 'vllm' ? sweepLineOf(g.start.toArray(), latency) : maxOf(series.concurrentRequestsPerSec);
  // Σ latency over the sorted values (as the means): the same whatever order threads finished in
  const e2eMs = summarizeInPlace(latency, percentiles);
  let latencySum = 0;
  for (let i = 0; i < completed; i++) latencySum += latency[i];

  const summary: RunSummary = {
    schemaVersion: 1,
    definition,
    api,
    percentiles: [...percentiles],
    completed,
    failed: cols.tally.failed,
    clientErrors: cols.tally.clientErrors,
    warmupRequests: cols.warmups,
    durationSec,
    totalInputTokens: totalInput,
    totalOutputTokens: totalOutput,
    requestThroughput: per(completed),
    inputThroughput: per(totalInput),
    outputThroughput: per(totalOutput),
    totalThroughput: per(totalInput + totalOutput),
    concurrency: per(latencySum / 1000),
    maxOutputTokensPerSec: maxOf(series.outputTokensPerSec),
    maxConcurrentRequests: maxConcurrent,
    requestGoodput: goodCompleted === null ? null : per(goodCompleted),
    goodCompleted,
    acceptLength: options.acceptLength ?? null,
    // bench_serving: np.mean(ttfts or 0) -> an empty list reports 0, but E2E of nothing is NaN
    ttftMs: summarizeInPlace(ttft, percentiles, true),
    tpotMs: summarizeInPlace(tpots, percentiles, true),
    itlMs: summarizeInPlace(cols.itl.toArray(), percentiles, true),
    e2eMs,
    clientQueueMs: summarizeInPlace(queue, percentiles),
    e2eIncludingQueueMs: summarizeInPlace(e2eWithQueue, percentiles),
    dispatchLagMs: summarizeInPlace(cols.lag.toArray(), percentiles),
  };
  const t = cols.tally;
  if (t.thinkingRequests > 0) {
    const all = g.ttfat.toArray();
    let n = 0;
    for (let i = 0; i < all.length; i++) if (!Number.isNaN(all[i])) all[n++] = all[i];
    summary.reasoning = {
      thinkingRequests: t.thinkingRequests,
      thinkingShare: t.outputChars > 0 ? t.thinkingChars / t.outputChars : 0,
      thinkingTokens: t.thinkingTokens,
      answerTokens: t.answerTokens,
      noAnswer: t.thinkingNoAnswer,
      ttfatMs: summarizeInPlace(all.subarray(0, n), percentiles),
    };
  }
  return { summary, series };
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

/** perSecondSeries over a run's columns (same buckets, same order of additions) */
function perSecondSeriesOf(cols: RunColumns): RunSeries {
  const g = cols.good;
  const n = cols.goodCount;
  if (n === 0) return { outputTokensPerSec: [], concurrentRequestsPerSec: [] };
  let minStart = Infinity;
  let maxEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = g.start.get(i);
    minStart = Math.min(minStart, s);
    maxEnd = Math.max(maxEnd, s + g.latency.get(i));
  }
  const buckets = Math.ceil((maxEnd - minStart) / 1000) + 1;
  const tokens = new Array<number>(buckets).fill(0);
  const concurrent = new Array<number>(buckets).fill(0);
  for (let i = 0; i < n; i++) {
    const start = g.start.get(i);
    const lat = g.latency.get(i);
    let t = (start + g.ttft.get(i) - minStart) / 1000;
    const first = Math.trunc(t);
    if (first >= 0 && first < buckets) tokens[first]++;
    const from = g.itlFrom.get(i);
    const to = from + g.itlCount.get(i);
    for (let k = from; k < to; k++) {
      t += cols.itl.get(k) / 1000;
      const b = Math.trunc(t);
      if (b >= 0 && b < buckets) tokens[b]++;
    }
    const startSec = Math.trunc((start - minStart) / 1000);
    const endSec = Math.trunc((start + lat - minStart) / 1000);
    for (let s = startSec; s < Math.min(endSec + 1, buckets); s++) concurrent[s]++;
  }
  return { outputTokensPerSec: tokens, concurrentRequestsPerSec: concurrent };
}

/** sweepLineMaxConcurrency over columns: starts and ends sorted apart, ends first on ties */
function sweepLineOf(starts: Float64Array, latency: Float64Array): number {
  const ends = new Float64Array(starts.length);
  for (let i = 0; i < starts.length; i++) ends[i] = starts[i] + latency[i];
  const s = Float64Array.from(starts).sort();
  ends.sort();
  let i = 0;
  let j = 0;
  let cur = 0;
  let peak = 0;
  while (i < s.length) {
    if (j < ends.length && ends[j] <= s[i]) {
      cur--;
      j++;
    } else {
      cur++;
      i++;
      if (cur > peak) peak = cur;
    }
  }
  return peak;
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
