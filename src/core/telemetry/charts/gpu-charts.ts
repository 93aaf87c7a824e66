import type { PlotBlock } from '../../output/doc';
import { bucketMeans, minMaxBuckets } from '../downsample';
import type { PhaseMarker } from '../schema';
import { GPU_METRICS, type GpuMetric, type GpuSeries, type GpuSeriesStore } from '../series';
import { phaseBands } from './phases';

export interface TimeChartOptions {
  /** elapsed seconds are measured from here (run start); default: the first sample */
  t0Ms?: number;
  /** points per series after downsampling (min/max buckets keep spikes); default 600 */
  maxPointsPerSeries?: number;
  phases?: readonly PhaseMarker[];
  heightPx?: number;
}

const elapsed = (tMs: readonly number[], t0Ms: number) => tMs.map((t) => (t - t0Ms) / 1000);

function downsampled(s: GpuSeries, metric: GpuMetric, t0Ms: number, maxPoints: number) {
  return minMaxBuckets(elapsed(s.tMs, t0Ms), s.values[metric], Math.max(1, Math.floor((maxPoints - 2) / 2)));
}

function withPhases(layout: Record<string, unknown>, o: TimeChartOptions, t0Ms: number, endMs: number | undefined): Record<string, unknown> {
  if (!o.phases || o.phases.length === 0) return layout;
  const { shapes, annotations } = phaseBands(o.phases, t0Ms, endMs);
  return { ...layout, shapes, annotations };
}

/**
 * Utilization, memory and power of every GPU over time, stacked (one panel per metric, one WebGL
 * line per GPU). Readable up to ~16 GPUs; use the heatmap beyond that.
 */
export function gpuTimelinePlot(store: GpuSeriesStore, id: string, o: TimeChartOptions = {}): PlotBlock {
  const range = store.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const metrics: GpuMetric[] = ['util', 'memGiB', 'power'];
  const data: Record<string, unknown>[] = [];
  store.series().forEach((s, i) => {
    metrics.forEach((m, row) => {
      const { x, y } = downsampled(s, m, t0, o.maxPointsPerSeries ?? 600);
      data.push({
        type: 'scattergl',
        mode: 'lines',
        name: s.key,
        legendgroup: s.key,
        showlegend: row === 0,
        x,
        y,
        xaxis: 'x',
        yaxis: row === 0 ? 'y' : `y${row + 1}`,
        line: { width: 1.2 },
        meta: { gpu: s.key, colorIndex: i },
        hovertemplate: `${s.key} %{y:.1f} ${GPU_METRICS[m].unit}<extra></extra>`,
      });
    });
  });
  const layout: Record<string, unknown> = {
    xaxis: { title: { text: 'elapsed (s)' } },
    yaxis: { title: { text: 'util %' }, range: [0, 105], domain: [0.68, 1] },
    yaxis2: { title: { text: 'mem GiB' }, rangemode: 'tozero', domain: [0.35, 0.65], anchor: 'x' },
    yaxis3: { title: { text: 'power W' }, rangemode: 'tozero', domain: [0, 0.32], anchor: 'x' },
    legend: { orientation: 'h' },
    margin: { t: 24, r: 8 },
  };
  return { type: 'plot', id, title: 'GPUs over time', data, layout: withPhases(layout, o, t0, range?.endMs), heightPx: o.heightPx ?? 520 };
}

/** One small panel per GPU for one metric (same axes, so outliers stand out). */
export function gpuSmallMultiplesPlot(store: GpuSeriesStore, metric: GpuMetric, id: string, o: TimeChartOptions & { columns?: number } = {}): PlotBlock {
  const series = store.series();
  const range = store.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const columns = o.columns ?? Math.min(8, Math.max(1, Math.ceil(Math.sqrt(series.length))));
  const rows = Math.max(1, Math.ceil(series.length / columns));
  const spec = GPU_METRICS[metric];
  const layout: Record<string, unknown> = {
    grid: { rows, columns, pattern: 'independent', xgap: 0.04, ygap: 0.12 },
    showlegend: false,
    margin: { t: 24, r: 8, l: 36, b: 24 },
    annotations: [] as Record<string, unknown>[],
  };
  const annotations = layout.annotations as Record<string, unknown>[];
  const data = series.map((s, i) => {
    const axis = i === 0 ? '' : String(i + 1);
    const { x, y } = downsampled(s, metric, t0, o.maxPointsPerSeries ?? 200);
    // panels share axes so a lagging GPU is visible at a glance (the first panel is the reference)
    layout[`xaxis${axis}`] = { showticklabels: i >= series.length - columns, ...(i === 0 ? {} : { matches: 'x' }) };
    layout[`yaxis${axis}`] = { ...(metric === 'util' ? { range: [0, 105] } : { rangemode: 'tozero' }), ...(i === 0 ? {} : { matches: 'y' }) };
    annotations.push({ text: s.key, xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0, y: 1, xanchor: 'left', yanchor: 'bottom', showarrow: false, font: { size: 9 } });
    return { type: 'scattergl', mode: 'lines', name: s.key, x, y, xaxis: `x${axis}`, yaxis: `y${axis}`, line: { width: 1 }, hovertemplate: `${s.key} %{y:.1f} ${spec.unit}<extra></extra>` };
  });
  return { type: 'plot', id, title: `${spec.label} per GPU (${spec.unit})`, data, layout, heightPx: o.heightPx ?? Math.min(1200, 90 * rows + 60) };
}

/**
 * GPU × time heatmap for many GPUs (one row per GPU, mean per time bucket): 96 GPUs × 3,600 s
 * become 96 × `timeBuckets` cells, one trace, cheap to update with Plotly.react.
 */
export function gpuHeatmapPlot(store: GpuSeriesStore, metric: GpuMetric, id: string, o: TimeChartOptions & { timeBuckets?: number } = {}): PlotBlock {
  const series = store.series();
  const range = store.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const endMs = range?.endMs ?? t0;
  const buckets = Math.max(1, Math.min(o.timeBuckets ?? 300, Math.ceil((endMs - t0) / 1000) + 1));
  const x0 = 0;
  const x1 = Math.max(1e-3, (endMs - t0) / 1000);
  const width = (x1 - x0) / buckets;
  const x = Array.from({ length: buckets }, (_, b) => x0 + (b + 0.5) * width);
  // JSON has no NaN: empty cells are null (drawn as gaps)
  const z = series.map((s) => bucketMeans(elapsed(s.tMs, t0), s.values[metric], x0, x1, buckets).map((v) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null)));
  const spec = GPU_METRICS[metric];
  const data = [
    {
      type: 'heatmap',
      x,
      y: series.map((s) => s.key),
      z,
      // low is calm (Plotly's YlOrRd reversed: pale at 0); ranges mean something: utilisation
      // 0–100 %, memory against what the GPU holds (a 114–115 GiB scale made 1 GiB of noise look
      // like two states), the rest from zero
      colorscale: 'YlOrRd',
      reversescale: true,
      zmin: 0,
      zmax: metric === 'util' ? 100 : metric === 'memGiB' ? store.memTotalGiB() : undefined,
      colorbar: { title: { text: spec.unit } },
      hovertemplate: `%{y} at %{x:.0f} s: %{z} ${spec.unit}<extra></extra>`,
    },
  ];
  const layout: Record<string, unknown> = {
    xaxis: { title: { text: 'elapsed (s)' } },
    yaxis: { autorange: 'reversed', tickfont: { size: series.length > 32 ? 7 : 10 } },
    margin: { t: 24, r: 8 },
  };
  return { type: 'plot', id, title: `${spec.label} — GPU × time`, data, layout: withPhases(layout, o, t0, endMs), heightPx: o.heightPx ?? Math.min(900, 120 + 10 * series.length) };
}
