import type { PlotBlock } from '../output/doc';
import type { BenchmarkOutcome } from '../bench/benchmark';
import { percentileSorted, sortedCopy } from '../metrics/stats';
import type { SweepStep } from '../spec/bench-spec';

/** Every chart is capped so the notebook stays small: raw records stay in the run store. */
const CDF_POINTS = 101;
const TIMELINE_REQUESTS = 300;
const SERIES_POINTS = 600;
const MAX_CDF_STEPS = 6;

export interface StepResult {
  step: SweepStep;
  outcome: BenchmarkOutcome;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** x axis of a sweep: the dimension that varies */
function sweepAxis(results: readonly StepResult[]): { title: string; values: (number | string)[] } {
  const rates = new Set(results.map((r) => r.step.requestRate));
  const concs = new Set(results.map((r) => r.step.maxConcurrency));
  if (concs.size > 1 && rates.size === 1) return { title: 'max concurrency', values: results.map((r) => r.step.maxConcurrency ?? 0) };
  if (rates.size > 1 && concs.size === 1) return { title: 'request rate (req/s)', values: results.map((r) => (Number.isFinite(r.step.requestRate) ? r.step.requestRate : 'inf')) };
  return { title: 'step', values: results.map((r) => r.step.label) };
}

export function throughputPlot(results: readonly StepResult[]): PlotBlock {
  const axis = sweepAxis(results);
  const s = results.map((r) => r.outcome.summary);
  const data: Record<string, unknown>[] = [
    { type: 'scatter', mode: 'lines+markers', name: 'output tok/s', x: axis.values, y: s.map((x) => r3(x.outputThroughput)) },
    { type: 'scatter', mode: 'lines+markers', name: 'total tok/s', x: axis.values, y: s.map((x) => r3(x.totalThroughput)) },
    { type: 'scatter', mode: 'lines+markers', name: 'req/s', x: axis.values, y: s.map((x) => r3(x.requestThroughput)), yaxis: 'y2', line: { dash: 'dot' } },
  ];
  if (s.some((x) => x.requestGoodput !== null)) {
    data.push({ type: 'scatter', mode: 'lines+markers', name: 'goodput req/s', x: axis.values, y: s.map((x) => (x.requestGoodput === null ? null : r3(x.requestGoodput))), yaxis: 'y2', line: { dash: 'dash' } });
  }
  return {
    type: 'plot',
    id: 'throughput',
    title: `Throughput vs ${axis.title}`,
    data,
    layout: { xaxis: { title: { text: axis.title }, type: typeof axis.values[0] === 'number' ? 'linear' : 'category' }, yaxis: { title: { text: 'tokens/s' } }, yaxis2: { title: { text: 'requests/s' }, overlaying: 'y', side: 'right' }, legend: { orientation: 'h' } },
  };
}

/** mean/median/percentiles per metric: grouped bars for one run, lines over the sweep for several */
export function latencyPlot(results: readonly StepResult[]): PlotBlock {
  const metrics: [string, 'ttftMs' | 'tpotMs' | 'itlMs' | 'e2eMs'][] = [
    ['TTFT', 'ttftMs'],
    ['TPOT', 'tpotMs'],
    ['ITL', 'itlMs'],
    ['E2E', 'e2eMs'],
  ];
  const pcts = results[0]?.outcome.summary.percentiles ?? [99];
  if (results.length === 1) {
    const s = results[0].outcome.summary;
    const x = ['mean', 'median', ...pcts.map((p) => `p${p}`)];
    const data = metrics.map(([name, key]) => ({ type: 'bar', name, x, y: [s[key].mean, s[key].median, ...pcts.map((p) => s[key].p[`p${p}`] ?? null)].map((v) => (v === null ? null : r3(v))) }));
    return { type: 'plot', id: 'latency', title: 'Latency percentiles', data, layout: { barmode: 'group', yaxis: { title: { text: 'ms' }, type: 'log' }, legend: { orientation: 'h' } } };
  }
  const axis = sweepAxis(results);
  const top = pcts[pcts.length - 1];
  const data: Record<string, unknown>[] = [];
  for (const [name, key] of metrics) {
    data.push({ type: 'scatter', mode: 'lines+markers', name: `${name} median`, x: axis.values, y: results.map((r) => nullable(r.outcome.summary[key].median)) });
    data.push({ type: 'scatter', mode: 'lines+markers', name: `${name} p${top}`, x: axis.values, y: results.map((r) => nullable(r.outcome.summary[key].p[`p${top}`])), line: { dash: 'dot' } });
  }
  return { type: 'plot', id: 'latency', title: `Latency vs ${axis.title}`, data, layout: { xaxis: { title: { text: axis.title } }, yaxis: { title: { text: 'ms' }, type: 'log' }, legend: { orientation: 'h' } } };
}

function nullable(x: number | null | undefined): number | null {
  return x === null || x === undefined ? null : r3(x);
}

/** empirical CDF down-sampled to quantiles at evenly spaced probabilities */
export function cdfPoints(values: ArrayLike<number>, points = CDF_POINTS): { x: number[]; y: number[] } {
  if (values.length === 0) return { x: [], y: [] };
  const sorted = sortedCopy(values);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < points; i++) {
    const q = (i / (points - 1)) * 100;
    x.push(r3(percentileSorted(sorted, q)));
    y.push(r3(q / 100));
  }
  return { x, y };
}

export function cdfPlot(results: readonly StepResult[]): PlotBlock {
  const shown = results.slice(0, MAX_CDF_STEPS);
  const data: Record<string, unknown>[] = [];
  for (const r of shown) {
    const good = r.outcome.derived.filter((d) => d.ok);
    const suffix = results.length > 1 ? ` (${r.step.label})` : '';
    const ttft = cdfPoints(good.map((d) => d.ttftMs));
    const itl = cdfPoints(good.flatMap((d) => d.itlMs));
    data.push({ type: 'scatter', mode: 'lines', name: `TTFT${suffix}`, x: ttft.x, y: ttft.y });
    data.push({ type: 'scatter', mode: 'lines', name: `ITL${suffix}`, x: itl.x, y: itl.y, line: { dash: 'dot' } });
  }
  return { type: 'plot', id: 'cdf', title: results.length > MAX_CDF_STEPS ? `TTFT and ITL CDFs (first ${MAX_CDF_STEPS} steps)` : 'TTFT and ITL CDFs', data, layout: { xaxis: { title: { text: 'ms' }, type: 'log' }, yaxis: { title: { text: 'fraction of requests / gaps' }, range: [0, 1] }, legend: { orientation: 'h' } } };
}

/**
 * One line per request (a sample of them): waiting for the first token, then decoding; failures
 * in their own colour. Reads like a Gantt chart of the run.
 */
export function timelinePlot(result: StepResult): PlotBlock {
  const recs = result.outcome.records;
  const derived = result.outcome.derived;
  const stride = Math.max(1, Math.ceil(recs.length / TIMELINE_REQUESTS));
  const wait: { x: (number | null)[]; y: (number | null)[] } = { x: [], y: [] };
  const decode: { x: (number | null)[]; y: (number | null)[] } = { x: [], y: [] };
  const failed: { x: (number | null)[]; y: (number | null)[] } = { x: [], y: [] };
  const queue: { x: (number | null)[]; y: (number | null)[] } = { x: [], y: [] };
  const seg = (s: { x: (number | null)[]; y: (number | null)[] }, a: number, b: number, y: number): void => {
    s.x.push(r3(a / 1000), r3(b / 1000), null);
    s.y.push(y, y, null);
  };
  for (let i = 0; i < recs.length; i += stride) {
    const r = recs[i];
    const d = derived[i];
    if (r.startMs - r.dispatchedMs > 0.5) seg(queue, r.dispatchedMs, r.startMs, r.seq);
    if (!d.ok) {
      seg(failed, r.startMs, r.startMs + r.lastLineMs, r.seq);
      continue;
    }
    seg(wait, r.startMs, r.startMs + d.ttftMs, r.seq);
    seg(decode, r.startMs + d.ttftMs, r.startMs + d.latencyMs, r.seq);
  }
  const line = (name: string, s: typeof wait, color: string): Record<string, unknown> => ({ type: 'scattergl', mode: 'lines', name, x: s.x, y: s.y, line: { color, width: 2 } });
  const data = [line('client queue', queue, '#9e9e9e'), line('to first token', wait, '#f5a623'), line('decoding', decode, '#4a90e2'), line('failed', failed, '#d0021b')].filter((t) => (t.x as unknown[]).length > 0);
  const sampled = stride > 1 ? ` (every ${stride}th of ${recs.length} requests)` : '';
  return {
    type: 'plot',
    id: `timeline-${result.step.index}`,
    title: `Request timeline${sampled}${result.step.label ? ` — ${result.step.label}` : ''}`,
    data,
    layout: { xaxis: { title: { text: 's since start' } }, yaxis: { title: { text: 'request #' }, autorange: 'reversed' }, legend: { orientation: 'h' }, showlegend: true },
  };
}

/**
 * bench_serving's per-second buckets: output tokens/s, and its "concurrent requests" series, which
 * counts every request active at any moment of that second (from its start second to its end
 * second inclusive). A request that finishes and the one that replaces it both count, so the
 * series exceeds max concurrency (59 at a limit of 32) while the client never does: it is named
 * for what it counts, not "in flight".
 */
export function throughputOverTimePlot(result: StepResult): PlotBlock {
  const { outputTokensPerSec, concurrentRequestsPerSec } = result.outcome.series;
  const bucket = Math.max(1, Math.ceil(outputTokensPerSec.length / SERIES_POINTS));
  const x: number[] = [];
  const tok: number[] = [];
  const conc: number[] = [];
  for (let i = 0; i < outputTokensPerSec.length; i += bucket) {
    let t = 0;
    let c = 0;
    let n = 0;
    for (let j = i; j < Math.min(i + bucket, outputTokensPerSec.length); j++, n++) {
      t += outputTokensPerSec[j];
      c = Math.max(c, concurrentRequestsPerSec[j]);
    }
    x.push(i);
    tok.push(r3(t / n));
    conc.push(c);
  }
  return {
    type: 'plot',
    id: `over-time-${result.step.index}`,
    title: `Output tokens/s over time${result.step.label ? ` — ${result.step.label}` : ''}`,
    data: [
      { type: 'scatter', mode: 'lines', name: 'output tok/s', x, y: tok },
      { type: 'scatter', mode: 'lines', name: 'requests active during the second', x, y: conc, yaxis: 'y2', line: { dash: 'dot' }, hovertemplate: '%{y} requests active at some point in second %{x} (bench_serving\'s concurrent requests; not the in-flight limit)<extra></extra>' },
    ],
    layout: { xaxis: { title: { text: 's since first request' } }, yaxis: { title: { text: 'tokens/s' } }, yaxis2: { title: { text: 'requests active / s' }, overlaying: 'y', side: 'right', rangemode: 'tozero' }, legend: { orientation: 'h' } },
  };
}
