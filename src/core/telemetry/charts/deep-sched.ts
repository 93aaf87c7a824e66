import type { PlotBlock } from '../../output/doc';
import { DeepTelemetryState, type Columns, type SchedMetric } from '../deep/state';
import { heatRows, line, withPhases, type DeepChartOptions } from './deep-common';

/** Above this many ranks, small multiples become a rank × time heatmap. */
export const SMALL_MULTIPLES_MAX_RANKS = 24;

const QUEUE_TRACES: { metric: SchedMetric; name: string; dash?: string }[] = [
  { metric: 'runningReqs', name: 'running' },
  { metric: 'queueReqs', name: 'queued', dash: 'dot' },
  { metric: 'bootstrapQueueReqs', name: 'bootstrap queue', dash: 'dash' },
  { metric: 'inflightReqs', name: 'inflight (KV sending)', dash: 'dashdot' },
  { metric: 'preallocQueueReqs', name: 'prealloc queue', dash: 'dash' },
  { metric: 'transferQueueReqs', name: 'transfer queue', dash: 'dashdot' },
];

const COLORS: Record<string, string> = { runningReqs: '#636efa', queueReqs: '#ef553b', bootstrapQueueReqs: '#00cc96', inflightReqs: '#ab63fa', preallocQueueReqs: '#ffa15a', transferQueueReqs: '#19d3f3' };

function smallMultiples(ranks: [string, Columns<SchedMetric>][], traces: { metric: SchedMetric; name: string; dash?: string; scale?: number }[], id: string, title: string, o: DeepChartOptions, t0: number, endMs: number | undefined, yRange?: [number, number]): PlotBlock {
  const columns = Math.min(6, Math.max(1, Math.ceil(Math.sqrt(ranks.length))));
  const rows = Math.max(1, Math.ceil(ranks.length / columns));
  const maxPoints = o.maxPointsPerSeries ?? 200;
  const layout: Record<string, unknown> = { grid: { rows, columns, pattern: 'independent', xgap: 0.04, ygap: 0.14 }, legend: { orientation: 'h' }, margin: { t: 24, r: 8, l: 36, b: 24 } };
  const annotations: Record<string, unknown>[] = [];
  const data: Record<string, unknown>[] = [];
  const shown = new Set<string>();
  ranks.forEach(([key, c], i) => {
    const axis = i === 0 ? '' : String(i + 1);
    layout[`xaxis${axis}`] = { showticklabels: i >= ranks.length - columns, ...(i === 0 ? {} : { matches: 'x' }) };
    layout[`yaxis${axis}`] = { ...(yRange ? { range: yRange } : { rangemode: 'tozero' }), ...(i === 0 ? {} : { matches: 'y' }) };
    annotations.push({ text: key, xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0, y: 1, xanchor: 'left', yanchor: 'bottom', showarrow: false, font: { size: 9 } });
    for (const t of traces) {
      const ys = c.values[t.metric];
      if (!ys.some(Number.isFinite)) continue;
      const scaled = t.scale ? ys.map((v) => v * (t.scale ?? 1)) : ys;
      const { x, y } = line(c.tMs, scaled, t0, maxPoints);
      data.push({ type: 'scattergl', mode: 'lines', name: t.name, legendgroup: t.metric, showlegend: !shown.has(t.metric), x, y, xaxis: `x${axis}`, yaxis: `y${axis}`, line: { width: 1, dash: t.dash, color: COLORS[t.metric] }, hovertemplate: `${key} ${t.name} %{y}<extra></extra>` });
      shown.add(t.metric);
    }
  });
  layout.annotations = annotations;
  // phase bands on the first panel only: enough to place the steps
  if (o.phases && o.phases.length > 0) layout.shapes = withPhases({}, o.phases, t0, endMs).shapes;
  return { type: 'plot', id, title, data, layout, heightPx: o.heightPx ?? Math.min(1200, 110 * rows + 80) };
}

function rankHeatmap(ranks: [string, Columns<SchedMetric>][], metric: SchedMetric, id: string, title: string, unit: string, o: DeepChartOptions, t0: number, endMs: number, scale = 1): PlotBlock {
  const { x, z } = heatRows(ranks.map(([, c]) => ({ tMs: c.tMs, ys: c.values[metric].map((v) => v * scale) })), t0, endMs, o.timeBuckets ?? 120);
  const data = [{ type: 'heatmap', x, y: ranks.map(([k]) => k), z, colorscale: 'YlOrRd', reversescale: true, zmin: 0, colorbar: { title: { text: unit } }, hovertemplate: `%{y} at %{x:.0f} s: %{z} ${unit}<extra></extra>` }];
  const layout = { xaxis: { title: { text: 'elapsed (s)' } }, yaxis: { autorange: 'reversed', tickfont: { size: ranks.length > 32 ? 7 : 10 } }, margin: { t: 24, r: 8 } };
  return { type: 'plot', id, title, data, layout: withPhases(layout, o.phases, t0, endMs), heightPx: o.heightPx ?? Math.min(900, 140 + 10 * ranks.length) };
}

/**
 * Per rank: running and queued requests, plus the PD queues a rank reports (bootstrap and
 * inflight on prefill, prealloc and transfer on decode), from the scheduler's own log lines.
 * Many ranks: queued requests as a rank × time heatmap.
 */
export function rankQueuesPlot(state: DeepTelemetryState, id: string, o: DeepChartOptions = {}): PlotBlock | undefined {
  const ranks = DeepTelemetryState.sorted(state.ranks);
  if (ranks.length === 0) return undefined;
  const range = state.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const endMs = range?.endMs ?? t0;
  if (ranks.length > SMALL_MULTIPLES_MAX_RANKS) return rankHeatmap(ranks, 'queueReqs', id, 'Queued requests per rank (scheduler log)', 'requests', o, t0, endMs);
  return smallMultiples(ranks, QUEUE_TRACES, id, 'Requests and queues per rank (scheduler log)', o, t0, endMs);
}

/** Per rank KV-cache token usage (%), small multiples or a rank × time heatmap. */
export function rankTokenUsagePlot(state: DeepTelemetryState, id: string, o: DeepChartOptions = {}): PlotBlock | undefined {
  const ranks = DeepTelemetryState.sorted(state.ranks).filter(([, c]) => c.values.tokenUsage.some(Number.isFinite));
  if (ranks.length === 0) return undefined;
  const range = state.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const endMs = range?.endMs ?? t0;
  if (ranks.length > SMALL_MULTIPLES_MAX_RANKS) return rankHeatmap(ranks, 'tokenUsage', id, 'KV token usage per rank (%)', '%', o, t0, endMs, 100);
  return smallMultiples(ranks, [{ metric: 'tokenUsage', name: 'token usage %', scale: 100 }], id, 'KV token usage per rank (%)', o, t0, endMs, [0, 100]);
}
