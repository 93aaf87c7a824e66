import { bucketDelta, histogramQuantile, sumBuckets, type CumulativeBuckets } from './histogram';
import { familyType, labelsOf, parsePromNumber, parsePrometheusText, type PromSample, type PromScrape } from './prometheus';

/**
 * One metric family over a window (two scrapes of one server), read by the family's declared
 * `# TYPE`, not by its name: SGLang PR #19009 turned kv_transfer_{latency_ms,bootstrap_ms,
 * alloc_ms,total_mb,speed_gb_s} from gauges into histograms under the same names, so the same
 * name means "last value of one request per rank" on an older server and "every request in the
 * window" on a newer one.
 */
export type FamilyWindow =
  | { name: string; type: 'histogram'; count: number; sum: number; mean: number | null; p50: number | null; p90: number | null; p99: number | null }
  | { name: string; type: 'gauge'; /** mean over matching series of the last scrape */ value: number; series: number }
  | { name: string; type: 'counter'; increase: number };

export type LabelFilter = Readonly<Record<string, string>>;

/** Every family in a scrape of these names (no keep filter: the window reader needs `# TYPE` lines). */
export function parseForFamilies(text: string, names: readonly string[]): PromScrape {
  const wanted = new Set<string>();
  for (const n of names) for (const suffix of ['', '_total', '_bucket', '_sum', '_count']) wanted.add(n + suffix);
  return parsePrometheusText(text, { keep: (s) => wanted.has(s) });
}

function matches(sample: PromSample, filter: LabelFilter | undefined): boolean {
  if (!filter) return true;
  const labels = labelsOf(sample);
  for (const k of Object.keys(filter)) if (labels[k] !== filter[k]) return false;
  return true;
}

function seriesKeyWithoutLe(sample: PromSample): string {
  const labels = { ...labelsOf(sample) };
  delete labels.le;
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

interface HistSeries {
  buckets: CumulativeBuckets;
  sum: number;
  count: number;
}

function histogramSeries(scrape: PromScrape, name: string, filter: LabelFilter | undefined): Map<string, HistSeries> {
  const out = new Map<string, { pairs: [number, number][]; sum: number; count: number }>();
  for (const b of scrape.byName.get(`${name}_bucket`) ?? []) {
    if (!matches(b, filter)) continue;
    const le = parsePromNumber(labelsOf(b).le ?? '');
    if (le === undefined) continue;
    const k = seriesKeyWithoutLe(b);
    let s = out.get(k);
    if (!s) out.set(k, (s = { pairs: [], sum: 0, count: 0 }));
    s.pairs.push([le, b.value]);
  }
  for (const [suffix, field] of [['_sum', 'sum'], ['_count', 'count']] as const) {
    for (const x of scrape.byName.get(name + suffix) ?? []) {
      if (!matches(x, filter)) continue;
      const s = out.get(seriesKeyWithoutLe(x));
      if (s) s[field] = x.value;
    }
  }
  const result = new Map<string, HistSeries>();
  for (const [k, s] of out) {
    s.pairs.sort((a, b) => a[0] - b[0]);
    result.set(k, { buckets: { le: s.pairs.map((p) => p[0]), cum: s.pairs.map((p) => p[1]) }, sum: s.sum, count: s.count });
  }
  return result;
}

/**
 * The family `name` between `before` (undefined: since the server started) and `after`.
 * Returns undefined when the server does not export it. Counter resets are handled per series.
 */
export function familyWindow(before: PromScrape | undefined, after: PromScrape, name: string, filter?: LabelFilter): FamilyWindow | undefined {
  const type = after.types.get(name) ?? familyType(after, `${name}_bucket`) ?? familyType(after, `${name}_total`) ?? (after.byName.has(name) ? 'gauge' : undefined);
  if (type === 'histogram') {
    const a = histogramSeries(after, name, filter);
    if (a.size === 0) return undefined;
    const b = before ? histogramSeries(before, name, filter) : new Map<string, HistSeries>();
    const deltas: CumulativeBuckets[] = [];
    let sum = 0;
    let count = 0;
    for (const [k, h] of a) {
      const prev = b.get(k);
      const base = prev && h.count >= prev.count ? prev : undefined;
      deltas.push(bucketDelta(base?.buckets, h.buckets));
      sum += h.sum - (base?.sum ?? 0);
      count += h.count - (base?.count ?? 0);
    }
    const merged = sumBuckets(deltas);
    const q = (p: number) => (merged && count > 0 ? histogramQuantile(p, merged) : null);
    return { name, type: 'histogram', count, sum, mean: count > 0 ? sum / count : null, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
  }
  if (type === 'counter') {
    const total = (s: PromScrape | undefined) => new Map((s?.byName.get(`${name}_total`) ?? s?.byName.get(name) ?? []).filter((x) => matches(x, filter)).map((x) => [x.labelsRaw, x.value]));
    const a = total(after);
    if (a.size === 0) return undefined;
    const b = total(before);
    let increase = 0;
    for (const [k, v] of a) {
      const p = b.get(k);
      increase += p === undefined || v < p ? v : v - p;
    }
    return { name, type: 'counter', increase };
  }
  if (type === 'gauge') {
    const samples = (after.byName.get(name) ?? []).filter((x) => matches(x, filter) && Number.isFinite(x.value));
    if (samples.length === 0) return undefined;
    return { name, type: 'gauge', value: samples.reduce((s, x) => s + x.value, 0) / samples.length, series: samples.length };
  }
  return undefined;
}

/** A representative value of a window: the histogram mean, or the gauge's last value. */
export function windowValue(w: FamilyWindow | undefined): number | null {
  if (!w) return null;
  if (w.type === 'histogram') return w.mean;
  if (w.type === 'gauge') return w.value;
  return w.increase;
}

/** Σ of a counter's increase over every series whose labels pass `filter`; 0 when absent. */
export function counterIncrease(before: PromScrape | undefined, after: PromScrape, name: string, filter?: LabelFilter): number {
  const w = familyWindow(before, after, name, filter);
  return w && w.type === 'counter' ? w.increase : 0;
}
