import type { Stats } from '../metrics/stats';
import { summarize } from '../metrics/stats';
import type { RunSummary } from '../metrics/summary';
import { isObject } from '../results/importers/build';
import type { ImportedRun } from '../results/importers';

/**
 * How several load-generating nodes' results become one run (documented in the cell output):
 * - counts and token totals add up; the duration is the longest node's (they ran at once);
 * - throughputs add up (each node's own tokens / its own duration), as does concurrency;
 *   peak tok/s and peak concurrent requests add up too, an upper bound (the peaks may fall in
 *   different seconds);
 * - latencies are recomputed from the pooled per-request lists when every node wrote them
 *   (bench_serving --output-details: TTFT and ITL exact; TPOT and E2E from TTFT + ΣITL, which
 *   leaves out the trailing [DONE] gap; vllm --save-detailed: latencies exact), else combined
 *   from each node's statistics: mean and std exactly (pooled), median and percentiles as the
 *   count-weighted mean of the nodes' values (an approximation, said so in the notes).
 */
export interface NodeResult {
  node: string;
  run: ImportedRun;
  /** the tool's JSON object as written (for per-request details) */
  raw: unknown;
}

export interface MergedResult {
  summary: RunSummary;
  notes: string[];
  /** true when latencies were recomputed per request */
  perRequest: boolean;
}

interface Details {
  ttftMs: number[];
  itlMs: number[];
  tpotMs: number[];
  e2eMs: number[];
  e2eExact: boolean;
}

const nums = (x: unknown): number[] | undefined => (Array.isArray(x) && x.every((v) => typeof v === 'number') ? (x as number[]) : undefined);

/** Per-request lists from a result object written with details; undefined without them. */
export function detailsOf(raw: unknown): Details | undefined {
  if (!isObject(raw)) return undefined;
  const ttfts = nums(raw['ttfts']);
  const itlsRaw = raw['itls'];
  const outLens = nums(raw['output_lens']);
  if (!ttfts || !Array.isArray(itlsRaw) || !outLens || itlsRaw.length !== ttfts.length || outLens.length !== ttfts.length) return undefined;
  const errors = Array.isArray(raw['errors']) ? raw['errors'] : [];
  const latencies = nums(raw['latencies']);
  const d: Details = { ttftMs: [], itlMs: [], tpotMs: [], e2eMs: [], e2eExact: latencies !== undefined && latencies.length === ttfts.length };
  for (let i = 0; i < ttfts.length; i++) {
    const err = errors[i];
    // failed requests: a non-empty error, or (vLLM) no output at all
    if ((typeof err === 'string' && err !== '') || outLens[i] === 0) continue;
    const itl = nums(itlsRaw[i]) ?? [];
    const itlSum = itl.reduce((a, b) => a + b, 0);
    const ttftS = ttfts[i];
    const latS = d.e2eExact && latencies ? latencies[i] : ttftS + itlSum;
    d.ttftMs.push(ttftS * 1000);
    for (const x of itl) d.itlMs.push(x * 1000);
    d.e2eMs.push(latS * 1000);
    if (outLens[i] > 1) d.tpotMs.push(((latS - ttftS) / (outLens[i] - 1)) * 1000);
  }
  return d;
}

const fin = (x: number): boolean => Number.isFinite(x);
const sumOf = (xs: number[]): number => (xs.every(fin) ? xs.reduce((a, b) => a + b, 0) : Number.NaN);

/** mean and population std exactly from the parts; median/percentiles count-weighted */
export function poolStats(parts: readonly Stats[]): Stats {
  const live = parts.filter((s) => s.count > 0 && s.mean !== null);
  const n = live.reduce((a, s) => a + s.count, 0);
  if (n === 0) return parts[0] ?? { count: 0, mean: null, median: null, std: null, min: null, max: null, p: {} };
  const mean = live.reduce((a, s) => a + s.count * (s.mean ?? 0), 0) / n;
  const std = live.every((s) => s.std !== null) ? Math.sqrt(live.reduce((a, s) => a + s.count * ((s.std ?? 0) ** 2 + ((s.mean ?? 0) - mean) ** 2), 0) / n) : null;
  const weighted = (get: (s: Stats) => number | null): number | null => (live.every((s) => get(s) !== null) ? live.reduce((a, s) => a + s.count * (get(s) ?? 0), 0) / n : null);
  const extreme = (get: (s: Stats) => number | null, f: (...xs: number[]) => number): number | null => (live.every((s) => get(s) !== null) ? f(...live.map((s) => get(s) ?? 0)) : null);
  const p: Record<string, number | null> = {};
  for (const key of Object.keys(live[0].p)) p[key] = weighted((s) => s.p[key] ?? null);
  return { count: n, mean, median: weighted((s) => s.median), std, min: extreme((s) => s.min, Math.min), max: extreme((s) => s.max, Math.max), p };
}

export function mergeNodeResults(parts: readonly NodeResult[], percentiles: readonly number[]): MergedResult {
  if (parts.length === 1) return { summary: parts[0].run.result.summary, notes: [], perRequest: false };
  const s = parts.map((p) => p.run.result.summary);
  const details = parts.map((p) => detailsOf(p.raw));
  const first = s[0];
  const summary: RunSummary = {
    ...first,
    completed: s.reduce((a, x) => a + x.completed, 0),
    failed: sumOf(s.map((x) => x.failed)),
    warmupRequests: sumOf(s.map((x) => x.warmupRequests)),
    durationSec: Math.max(...s.map((x) => x.durationSec).filter(fin), 0),
    totalInputTokens: sumOf(s.map((x) => x.totalInputTokens)),
    totalOutputTokens: sumOf(s.map((x) => x.totalOutputTokens)),
    requestThroughput: sumOf(s.map((x) => x.requestThroughput)),
    inputThroughput: sumOf(s.map((x) => x.inputThroughput)),
    outputThroughput: sumOf(s.map((x) => x.outputThroughput)),
    totalThroughput: sumOf(s.map((x) => x.totalThroughput)),
    concurrency: sumOf(s.map((x) => x.concurrency)),
    maxOutputTokensPerSec: sumOf(s.map((x) => x.maxOutputTokensPerSec)),
    maxConcurrentRequests: sumOf(s.map((x) => x.maxConcurrentRequests)),
    requestGoodput: s.every((x) => x.requestGoodput !== null) ? s.reduce((a, x) => a + (x.requestGoodput ?? 0), 0) : null,
    goodCompleted: s.every((x) => x.goodCompleted !== null) ? s.reduce((a, x) => a + (x.goodCompleted ?? 0), 0) : null,
    acceptLength: first.acceptLength,
  };
  const notes = [`Merged from ${parts.length} load-generating nodes (${parts.map((p) => p.node).join(', ')}): counts, tokens, throughputs and concurrency add up; duration is the longest node's; peak tok/s and peak concurrency are sums of per-node peaks (an upper bound).`];
  const all = details.every((d): d is Details => d !== undefined);
  if (all) {
    const pooled = (get: (d: Details) => number[]): number[] => details.flatMap((d) => (d ? get(d) : []));
    summary.ttftMs = summarize(pooled((d) => d.ttftMs), percentiles, true);
    summary.itlMs = summarize(pooled((d) => d.itlMs), percentiles, true);
    summary.tpotMs = summarize(pooled((d) => d.tpotMs), percentiles, true);
    summary.e2eMs = summarize(pooled((d) => d.e2eMs), percentiles);
    summary.percentiles = [...percentiles];
    notes.push(
      details.every((d) => d?.e2eExact)
        ? 'Latency statistics recomputed from every request of every node.'
        : 'TTFT and ITL statistics recomputed from every request of every node; E2E and TPOT per request are TTFT + ΣITL (bench_serving does not write per-request latency), which leaves out the gap to the final [DONE] line.',
    );
  } else {
    for (const k of ['ttftMs', 'tpotMs', 'itlMs', 'e2eMs', 'clientQueueMs', 'e2eIncludingQueueMs'] as const) summary[k] = poolStats(s.map((x) => x[k]));
    notes.push('Some node wrote no per-request details: latency mean and std are pooled exactly; median and percentiles are the count-weighted mean of the nodes\' values (an approximation).');
  }
  return { summary, notes, perRequest: all };
}
