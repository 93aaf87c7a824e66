import type { LatencyPercentilesMs, PdQueues, ServerSample } from '../schema';
import { bucketDelta, histogramQuantile, sumBuckets, type CumulativeBuckets } from './histogram';
import {
  COUNTERS,
  GAUGES,
  HISTOGRAMS,
  KV_TRANSFER_HISTOGRAMS,
  type KvTransferKey,
  SUMMARIES,
  spellings,
  wantedSampleNames,
  type CounterKey,
  type GaugeKey,
  type HistogramKey,
  type SummaryKey,
} from './metric-names';
import { parsePrometheusText, parsePromNumber, type PromSample, type PromScrape } from './prometheus';

interface SeriesHistogram {
  buckets: CumulativeBuckets;
  sum: number;
  count: number;
}

/**
 * One scrape boiled down to what the normalized sample needs, with counters and histograms kept
 * per series (label set) so resets are detected per rank before summing, as Prometheus'
 * `sum(rate(...))` does. Small enough to keep a window of them.
 */
export interface ServerState {
  tsMs: number;
  backend: ServerSample['backend'];
  gauges: Partial<Record<GaugeKey, number>>;
  /** series behind the running-requests gauge (≈ reporting ranks) */
  rankSeries: number;
  counters: Partial<Record<CounterKey, Map<string, number>>>;
  histograms: Partial<Record<HistogramKey, Map<string, SeriesHistogram>>>;
  summaries: Partial<Record<SummaryKey, Map<string, { sum: number; count: number }>>>;
  /** KV-transfer families the server declared as histograms (SGLang PR #19009): Σsum, Σcount over ranks */
  kvHistograms: Partial<Record<KvTransferKey, { sum: number; count: number }>>;
}

const WANTED = wantedSampleNames();
const keepWanted = (name: string): boolean => WANTED.has(name);

/** Parse a /metrics body keeping only the samples the normalizer reads. */
export function parseServerMetrics(text: string): PromScrape {
  return parsePrometheusText(text, { keep: keepWanted });
}

function firstPresent(scrape: PromScrape, names: readonly string[], isCounter: boolean, suffix = ''): PromSample[] | undefined {
  for (const n of names) {
    for (const s of spellings(n, isCounter)) {
      const found = scrape.byName.get(s + suffix);
      if (found && found.length > 0) return found;
    }
  }
  return undefined;
}

function aggregate(samples: readonly PromSample[], agg: 'sum' | 'max' | 'mean'): number | undefined {
  let sum = 0;
  let max = -Infinity;
  let n = 0;
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    sum += s.value;
    if (s.value > max) max = s.value;
    n++;
  }
  if (n === 0) return undefined;
  return agg === 'sum' ? sum : agg === 'max' ? max : sum / n;
}

/**
 * Split a bucket's raw label text into its `le` value and the series key (the same text without
 * `le`), with string slicing rather than a full label parse: this runs for every bucket line of
 * every scrape. The key then equals the raw labels of the series' `_sum` and `_count` lines.
 */
function splitLe(raw: string): { key: string; le: string | undefined } {
  let i = raw.indexOf('le="');
  while (i > 0 && raw.charCodeAt(i - 1) !== 44 /* , */ && raw.charCodeAt(i - 1) !== 32) i = raw.indexOf('le="', i + 1);
  if (i < 0) return { key: trimCommas(raw), le: undefined };
  const end = raw.indexOf('"', i + 4);
  if (end < 0) return { key: trimCommas(raw), le: undefined };
  const le = raw.slice(i + 4, end);
  return { key: trimCommas(raw.slice(0, i) + raw.slice(end + 1)), le };
}

function trimCommas(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 44 || s.charCodeAt(a) === 32)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 44 || s.charCodeAt(b - 1) === 32)) b--;
  const t = a === 0 && b === s.length ? s : s.slice(a, b);
  return t.includes(',,') ? t.replace(/,\s*,/g, ',') : t;
}

function readHistograms(scrape: PromScrape, names: readonly string[]): Map<string, SeriesHistogram> | undefined {
  const buckets = firstPresent(scrape, names, false, '_bucket');
  if (!buckets) return undefined;
  const base = buckets[0].name.slice(0, -'_bucket'.length);
  const bySeries = new Map<string, { pairs: [number, number][]; sum: number; count: number }>();
  for (const b of buckets) {
    const { key, le: leText } = splitLe(b.labelsRaw);
    const le = leText === undefined ? undefined : parsePromNumber(leText);
    if (le === undefined) continue;
    let s = bySeries.get(key);
    if (!s) bySeries.set(key, (s = { pairs: [], sum: 0, count: 0 }));
    s.pairs.push([le, b.value]);
  }
  for (const sumSample of scrape.byName.get(`${base}_sum`) ?? []) {
    const s = bySeries.get(trimCommas(sumSample.labelsRaw));
    if (s) s.sum = sumSample.value;
  }
  for (const countSample of scrape.byName.get(`${base}_count`) ?? []) {
    const s = bySeries.get(trimCommas(countSample.labelsRaw));
    if (s) s.count = countSample.value;
  }
  const out = new Map<string, SeriesHistogram>();
  for (const [key, s] of bySeries) {
    s.pairs.sort((a, b) => a[0] - b[0]);
    const cum = s.pairs.map((p) => p[1]);
    out.set(key, { buckets: { le: s.pairs.map((p) => p[0]), cum }, sum: s.sum, count: s.count || cum[cum.length - 1] || 0 });
  }
  return out;
}

function detectBackend(scrape: PromScrape): ServerSample['backend'] {
  for (const name of scrape.byName.keys()) {
    if (name.startsWith('sglang')) return 'sglang';
    if (name.startsWith('vllm')) return 'vllm';
  }
  return 'unknown';
}

export function reduceScrape(scrape: PromScrape, tsMs: number): ServerState {
  const state: ServerState = { tsMs, backend: detectBackend(scrape), gauges: {}, rankSeries: 0, counters: {}, histograms: {}, summaries: {}, kvHistograms: {} };
  for (const key of Object.keys(KV_TRANSFER_HISTOGRAMS) as KvTransferKey[]) {
    const name = KV_TRANSFER_HISTOGRAMS[key];
    if (scrape.types.get(name) !== 'histogram') continue;
    const total = (suffix: string) => (scrape.byName.get(name + suffix) ?? []).reduce((a, s) => a + (Number.isFinite(s.value) ? s.value : 0), 0);
    state.kvHistograms[key] = { sum: total('_sum'), count: total('_count') };
  }
  for (const key of Object.keys(GAUGES) as GaugeKey[]) {
    const spec = GAUGES[key];
    const samples = firstPresent(scrape, spec.names, false);
    if (!samples) continue;
    const v = aggregate(samples, spec.agg);
    if (v !== undefined) state.gauges[key] = v;
    if (key === 'runningReqs') state.rankSeries = samples.length;
  }
  for (const key of Object.keys(COUNTERS) as CounterKey[]) {
    const samples = firstPresent(scrape, COUNTERS[key], true);
    if (samples) state.counters[key] = new Map(samples.map((s) => [s.labelsRaw, s.value]));
  }
  for (const key of Object.keys(HISTOGRAMS) as HistogramKey[]) {
    const h = readHistograms(scrape, HISTOGRAMS[key]);
    if (h) state.histograms[key] = h;
  }
  for (const key of Object.keys(SUMMARIES) as SummaryKey[]) {
    const sums = firstPresent(scrape, SUMMARIES[key], false, '_sum');
    const counts = firstPresent(scrape, SUMMARIES[key], false, '_count');
    if (!sums || !counts) continue;
    const m = new Map<string, { sum: number; count: number }>();
    for (const s of sums) m.set(s.labelsRaw, { sum: s.value, count: 0 });
    for (const c of counts) {
      const e = m.get(c.labelsRaw);
      if (e) e.count = c.value;
    }
    state.summaries[key] = m;
  }
  return state;
}

/**
 * Σ over series of the increase between two scrapes; a series that went down was reset. A family
 * absent from the earlier scrape started since: prometheus_client creates labelled series on their
 * first observation, so SGLang's counters and histograms appear only after the first request.
 */
function counterIncrease(before: Map<string, number> | undefined, after: Map<string, number> | undefined): number | undefined {
  if (!after) return undefined;
  let total = 0;
  for (const [k, v] of after) {
    const prev = before?.get(k);
    total += prev === undefined || v < prev ? v : v - prev;
  }
  return total;
}

function latencyWindow(before: Map<string, SeriesHistogram> | undefined, after: Map<string, SeriesHistogram> | undefined): LatencyPercentilesMs | undefined {
  // absent before = no observation yet (see counterIncrease)
  if (!after) return undefined;
  const deltas: CumulativeBuckets[] = [];
  let dSum = 0;
  let dCount = 0;
  for (const [k, h] of after) {
    const prev = before?.get(k);
    const reset = prev !== undefined && h.count < prev.count;
    const base = reset ? undefined : prev;
    deltas.push(bucketDelta(base?.buckets, h.buckets));
    dSum += h.sum - (base?.sum ?? 0);
    dCount += h.count - (base?.count ?? 0);
  }
  const merged = sumBuckets(deltas);
  const toMs = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v * 1000);
  return {
    p50: merged ? toMs(histogramQuantile(0.5, merged)) : null,
    p90: merged ? toMs(histogramQuantile(0.9, merged)) : null,
    p99: merged ? toMs(histogramQuantile(0.99, merged)) : null,
    mean: dCount > 0 ? (dSum / dCount) * 1000 : null,
    count: dCount,
  };
}

/**
 * The normalized sample for `current`, with rates and percentiles over the window since
 * `baseline` (none on a server's first scrape).
 */
export function compareStates(baseline: ServerState | undefined, current: ServerState, endpoint: string): ServerSample {
  const g = current.gauges;
  const windowSec = baseline ? Math.max(0, (current.tsMs - baseline.tsMs) / 1000) : 0;
  const sample: ServerSample = { kind: 'server', tsMs: current.tsMs, endpoint, backend: current.backend, windowSec, rankSeries: current.rankSeries };
  const set = <K extends keyof ServerSample>(k: K, v: ServerSample[K] | undefined) => {
    if (v !== undefined) sample[k] = v;
  };
  set('runningReqs', g.runningReqs);
  set('queuedReqs', g.queuedReqs);
  set('tokenUsage', g.tokenUsage);
  set('usedTokens', g.usedTokens);
  set('maxTotalTokens', g.maxTotalTokens);
  set('genThroughputTokPerSec', g.genThroughputTokPerSec);
  set('cacheHitRate', g.cacheHitRate);
  set('specAcceptLength', g.specAcceptLength);
  const pd: PdQueues = {};
  for (const k of ['prefillPreallocQueueReqs', 'prefillInflightQueueReqs', 'decodePreallocQueueReqs', 'decodeTransferQueueReqs', 'kvTransferSpeedGBps', 'kvTransferLatencyMs', 'kvTransferBootstrapMs', 'kvTransferAllocMs', 'kvTransferTotalMb'] as const) {
    const v = g[k];
    if (v !== undefined) {
      pd[k] = v;
      if (k.startsWith('kvTransfer')) pd.kvMetricType = 'gauge';
    }
  }
  // same names, histograms since PR #19009: the mean over the transfers of this window (none: no value)
  for (const k of Object.keys(KV_TRANSFER_HISTOGRAMS) as KvTransferKey[]) {
    const h1 = current.kvHistograms[k];
    if (!h1) continue;
    pd.kvMetricType = 'histogram';
    const h0 = baseline?.kvHistograms[k];
    const reset = h0 !== undefined && h1.count < h0.count;
    const dCount = h1.count - (h0 && !reset ? h0.count : 0);
    const dSum = h1.sum - (h0 && !reset ? h0.sum : 0);
    if (baseline && dCount > 0) pd[k] = dSum / dCount;
  }
  if (Object.keys(pd).length > 0) sample.pd = pd;
  if (!baseline || windowSec <= 0) return sample;

  const rate = (k: CounterKey) => {
    const inc = counterIncrease(baseline.counters[k], current.counters[k]);
    return inc === undefined ? undefined : inc / windowSec;
  };
  set('promptTokensPerSec', rate('promptTokens'));
  set('genTokensPerSec', rate('genTokens'));
  set('requestsPerSec', rate('requests'));
  if (sample.cacheHitRate === undefined) {
    const q = counterIncrease(baseline.counters.prefixQueries, current.counters.prefixQueries);
    const h = counterIncrease(baseline.counters.prefixHits, current.counters.prefixHits);
    if (q !== undefined && h !== undefined && q > 0) sample.cacheHitRate = h / q;
  }
  set('ttftMs', latencyWindow(baseline.histograms.ttft, current.histograms.ttft));
  set('itlMs', latencyWindow(baseline.histograms.itl, current.histograms.itl));
  set('e2eMs', latencyWindow(baseline.histograms.e2e, current.histograms.e2e));
  set('queueTimeMs', latencyWindow(baseline.histograms.queue, current.histograms.queue));
  const b0 = baseline.summaries.eplbBalancedness;
  const b1 = current.summaries.eplbBalancedness;
  if (b0 && b1) {
    let dSum = 0;
    let dCount = 0;
    for (const [k, v] of b1) {
      const p = b0.get(k);
      const reset = p !== undefined && v.count < p.count;
      dSum += v.sum - (p && !reset ? p.sum : 0);
      dCount += v.count - (p && !reset ? p.count : 0);
    }
    if (dCount > 0) sample.eplbBalancedness = dSum / dCount;
  }
  return sample;
}
