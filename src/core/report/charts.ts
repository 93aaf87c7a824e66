import type { PlotBlock } from '../output/doc';
import type { MetricValue, ReportModel, ReportRow } from './types';

type Axis = { kind: 'concurrency' | 'rate'; title: string; x: (row: ReportRow) => number | null };

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The load dimension the sweeps vary, if any series has two or more points on it. */
export function sweepAxis(model: ReportModel): Axis | null {
  const series = seriesRows(model);
  const varies = (get: (r: ReportRow) => number | null): boolean =>
    [...series.values()].some((rows) => new Set(rows.map(get).filter((x): x is number => x !== null)).size >= 2);
  const conc = (r: ReportRow): number | null => r.runs[0].load.maxConcurrency;
  const rate = (r: ReportRow): number | null => {
    const v = r.runs[0].load.requestRate;
    return typeof v === 'number' ? v : null;
  };
  if (varies(conc)) return { kind: 'concurrency', title: 'max concurrency', x: conc };
  if (varies(rate)) return { kind: 'rate', title: 'request rate (req/s)', x: rate };
  return null;
}

function seriesRows(model: ReportModel): Map<string, ReportRow[]> {
  const out = new Map<string, ReportRow[]>();
  for (const row of model.rows) out.set(row.series, [...(out.get(row.series) ?? []), row]);
  return out;
}

function val(model: ReportModel, row: ReportRow, metric: string): MetricValue | undefined {
  return model.values.get(row.key)?.get(metric);
}

/** min/max whiskers when a point was repeated */
function errorBars(vs: (MetricValue | undefined)[]): Record<string, unknown> | undefined {
  if (!vs.some((v) => v && v.n > 1)) return undefined;
  return {
    type: 'data',
    symmetric: false,
    array: vs.map((v) => (v && v.mean !== null && v.max !== null ? r3(v.max - v.mean) : 0)),
    arrayminus: vs.map((v) => (v && v.mean !== null && v.min !== null ? r3(v.mean - v.min) : 0)),
  };
}

function mean(v: MetricValue | undefined): number | null {
  return v?.mean === null || v?.mean === undefined ? null : r3(v.mean);
}

/** one line per series over the sweep axis, or grouped bars when nothing was swept */
function metricChart(model: ReportModel, id: string, title: string, metrics: { id: string; name: string; dash?: string }[], yTitle: string, logY: boolean): PlotBlock {
  const axis = sweepAxis(model);
  const data: Record<string, unknown>[] = [];
  if (axis) {
    for (const [series, rows] of seriesRows(model)) {
      const pts = rows.filter((r) => axis.x(r) !== null).sort((a, b) => (axis.x(a) ?? 0) - (axis.x(b) ?? 0));
      if (pts.length === 0) continue;
      for (const m of metrics) {
        const vs = pts.map((r) => val(model, r, m.id));
        if (vs.every((v) => mean(v) === null)) continue;
        data.push({
          type: 'scatter',
          mode: 'lines+markers',
          name: metrics.length > 1 ? `${series} ${m.name}` : series,
          x: pts.map((r) => axis.x(r)),
          y: vs.map(mean),
          text: pts.map((r) => r.point),
          error_y: errorBars(vs),
          line: m.dash ? { dash: m.dash } : undefined,
        });
      }
    }
  } else {
    for (const m of metrics) {
      const vs = model.rows.map((r) => val(model, r, m.id));
      if (vs.every((v) => mean(v) === null)) continue;
      data.push({ type: 'bar', name: m.name, x: model.rows.map((r) => r.label), y: vs.map(mean), error_y: errorBars(vs) });
    }
  }
  return {
    type: 'plot',
    id,
    title: axis ? `${title} vs ${axis.title}` : title,
    data,
    layout: {
      barmode: 'group',
      xaxis: axis ? { title: { text: axis.title }, type: axis.kind === 'concurrency' ? 'log' : 'linear' } : { type: 'category', automargin: true },
      yaxis: { title: { text: yTitle }, type: logY ? 'log' : 'linear', rangemode: logY ? undefined : 'tozero' },
      legend: { orientation: 'h', yanchor: 'top', y: -0.22 },
    },
  };
}

export function throughputChart(model: ReportModel): PlotBlock {
  return metricChart(model, 'report-throughput', 'Output throughput', [{ id: 'outputThroughput', name: 'output tok/s' }], 'output tokens/s', false);
}

export function latencyChart(model: ReportModel): PlotBlock {
  return metricChart(
    model,
    'report-latency',
    'Latency percentiles',
    [
      { id: 'ttftP50', name: 'TTFT p50' },
      { id: 'ttftP99', name: 'TTFT p99', dash: 'dot' },
      { id: 'tpotP50', name: 'TPOT p50', dash: 'dash' },
    ],
    'ms',
    true,
  );
}

export function energyChart(model: ReportModel): PlotBlock | undefined {
  if (!model.rows.some((r) => mean(val(model, r, 'joulesPerToken')) !== null)) return undefined;
  return metricChart(model, 'report-energy', 'Energy per output token', [{ id: 'joulesPerToken', name: 'J/token' }], 'joules per output token', false);
}

/** points not dominated by any other (higher on both axes is better) */
export function paretoFrontier(points: readonly { x: number; y: number }[]): { x: number; y: number }[] {
  const sorted = [...points].sort((a, b) => b.x - a.x || b.y - a.y);
  const front: { x: number; y: number }[] = [];
  let bestY = -Infinity;
  for (const p of sorted) {
    if (p.y > bestY) {
      front.push(p);
      bestY = p.y;
    }
  }
  return front.sort((a, b) => a.x - b.x);
}

/**
 * Throughput per GPU against what one user sees (tokens/s/user = 1000 / mean TPOT): the
 * cost-vs-interactivity trade-off, with the frontier across every compared point.
 */
export function paretoChart(model: ReportModel): PlotBlock | undefined {
  const data: Record<string, unknown>[] = [];
  const all: { x: number; y: number }[] = [];
  for (const [series, rows] of seriesRows(model)) {
    const pts = rows
      .map((r) => ({ r, x: mean(val(model, r, 'tokPerUser')), y: mean(val(model, r, 'outputPerGpu')) }))
      .filter((p): p is { r: ReportRow; x: number; y: number } => p.x !== null && p.y !== null)
      .sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    all.push(...pts.map(({ x, y }) => ({ x, y })));
    data.push({ type: 'scatter', mode: pts.length > 1 ? 'lines+markers' : 'markers', name: series, x: pts.map((p) => p.x), y: pts.map((p) => p.y), text: pts.map((p) => p.r.point || p.r.label), marker: { size: 9 } });
  }
  if (all.length === 0) return undefined;
  const front = paretoFrontier(all);
  if (front.length > 1) data.push({ type: 'scatter', mode: 'lines', name: 'Pareto frontier', x: front.map((p) => p.x), y: front.map((p) => p.y), line: { dash: 'dash', color: '#888' }, hoverinfo: 'skip' });
  return {
    type: 'plot',
    id: 'report-pareto',
    title: 'Throughput per GPU vs tokens/s per user',
    data,
    layout: { xaxis: { title: { text: 'output tok/s per user (1000 / mean TPOT)' } }, yaxis: { title: { text: 'output tok/s per GPU' }, rangemode: 'tozero' }, legend: { orientation: 'h', yanchor: 'top', y: -0.22 } },
  };
}
