import type { KeyValueBlock, PlotBlock, TableBlock } from '../output/doc';
import { minMaxBuckets } from './downsample';
import { balancednessPlot, expertGpuLoadPlot, expertHeatmapPlot } from './charts/expert-charts';
import { gpuHeatmapPlot, gpuTimelinePlot } from './charts/gpu-charts';
import { phaseBands } from './charts/phases';
import { serverLatencyPlot, serverQueuesPlot } from './charts/server-charts';
import type { ExpertSnapshot, GpuSample, PhaseMarker, ServerSample, TelemetryRecord } from './schema';
import { GpuSeriesStore, ServerSeriesStore } from './series';

/**
 * Everything a monitor (or a bench run) has received so far, in chart-ready form. Appending a
 * record is O(GPUs of the sample); nothing here keeps raw samples (telemetry.jsonl has them).
 */
export class TelemetryState {
  readonly gpus = new GpuSeriesStore();
  readonly servers = new ServerSeriesStore();
  readonly phases: PhaseMarker[] = [];
  readonly experts: ExpertSnapshot[] = [];
  readonly latestGpu = new Map<string, GpuSample>();
  readonly latestServer = new Map<string, ServerSample>();
  gpuSamples = 0;
  serverSamples = 0;

  add(r: TelemetryRecord): void {
    switch (r.kind) {
      case 'gpu':
        this.gpus.add(r);
        this.latestGpu.set(r.node, r);
        this.gpuSamples++;
        break;
      case 'server':
        this.servers.add(r);
        this.latestServer.set(r.endpoint, r);
        this.serverSamples++;
        break;
      case 'phase':
        this.phases.push(r);
        break;
      case 'experts':
        this.experts.push(r);
        break;
    }
  }
}

export interface TelemetryChartOptions {
  /** chart ids are `${idPrefix}-<chart>`, stable across updates (the renderer reacts in place) */
  idPrefix: string;
  /** elapsed time is measured from here; default: the first sample */
  t0Ms?: number;
  /** final = coarser, rounded series so the doc is small enough to keep in the notebook */
  final?: boolean;
}

/** At or below this many GPUs one line per GPU is readable; above it the GPU × time heatmap is. */
export const TIMELINE_MAX_GPUS = 16;

/**
 * The charts for what has been collected: per-GPU lines (few GPUs) or a GPU × time heatmap
 * plus per-node small multiples (many GPUs); KV cache and queues, server latency; expert load
 * heatmap and balancedness. Live charts keep ~600 points per series; final ones fewer, rounded.
 */
export function telemetryCharts(state: TelemetryState, o: TelemetryChartOptions): PlotBlock[] {
  const out: PlotBlock[] = [];
  const id = (name: string) => `${o.idPrefix}-${name}`;
  const phases = state.phases.length > 0 ? state.phases : undefined;
  const linePoints = o.final ? 240 : 600;
  const gpuCount = state.gpus.size;
  if (gpuCount > 0) {
    const common = { t0Ms: o.t0Ms, phases, maxPointsPerSeries: linePoints };
    if (gpuCount <= TIMELINE_MAX_GPUS) {
      out.push(gpuTimelinePlot(state.gpus, id('gpus'), common));
    } else {
      out.push(gpuHeatmapPlot(state.gpus, 'util', id('gpu-util-heat'), { ...common, timeBuckets: 120 }));
      out.push(nodeSmallMultiplesPlot(state.gpus, id('gpu-nodes'), { ...common, maxPointsPerSeries: o.final ? 120 : 300 }));
      // memory changes slowly and the live "GPUs now" table shows it; each heatmap costs the
      // renderer ~0.2 s per update at 96 GPUs (scripts/bench-renderer.ts), so only the final doc has it
      if (o.final) out.push(gpuHeatmapPlot(state.gpus, 'memGiB', id('gpu-mem-heat'), { ...common, timeBuckets: 120 }));
    }
  }
  if (state.servers.endpoints().length > 0) {
    const common = { t0Ms: o.t0Ms, phases, maxPointsPerSeries: linePoints };
    out.push(serverQueuesPlot(state.servers, id('kv-queues'), common));
    out.push(serverLatencyPlot(state.servers, id('server-latency'), common));
  }
  const byEndpoint = new Map<string, ExpertSnapshot[]>();
  for (const s of state.experts) {
    const list = byEndpoint.get(s.endpoint) ?? [];
    list.push(s);
    byEndpoint.set(s.endpoint, list);
  }
  let e = 0;
  for (const [endpoint, snaps] of byEndpoint) {
    const last = snaps[snaps.length - 1];
    const suffix = byEndpoint.size > 1 ? `-${e++}` : '';
    const heat = expertHeatmapPlot(last, id(`experts-heat${suffix}`));
    const load = expertGpuLoadPlot(last, id(`experts-gpu${suffix}`));
    const bal = balancednessPlot(snaps, id(`experts-balance${suffix}`));
    if (byEndpoint.size > 1) for (const p of [heat, load, bal]) p.title = `${p.title ?? ''} — ${endpoint}`;
    out.push(heat, load, bal);
  }
  // rounded live too: every update crosses to the webview, ~40 % fewer bytes for no visible change
  return out.map((p) => svgWhenSmall(compactPlot(p)));
}

const NODE_ORDER = new Intl.Collator('en', { numeric: true });

/**
 * One panel per node, one line per GPU of that node, shared axes: 12 panels for 96 GPUs instead
 * of 96 (Plotly lays out every axis on each update; 96 subplots are slow to react). A GPU that
 * lags its node's siblings is visible inside its panel; a slow node stands out across panels.
 */
export function nodeSmallMultiplesPlot(store: GpuSeriesStore, id: string, o: { t0Ms?: number; maxPointsPerSeries?: number; phases?: readonly PhaseMarker[] } = {}): PlotBlock {
  const series = store.series();
  const range = store.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const nodes = [...new Set(series.map((s) => s.node))].sort(NODE_ORDER.compare);
  const columns = Math.min(4, Math.max(1, nodes.length));
  const rows = Math.max(1, Math.ceil(nodes.length / columns));
  const maxPoints = o.maxPointsPerSeries ?? 300;
  const layout: Record<string, unknown> = {
    grid: { rows, columns, pattern: 'independent', xgap: 0.08, ygap: 0.22 },
    showlegend: false,
    margin: { t: 24, r: 8, l: 36, b: 24 },
  };
  const annotations: Record<string, unknown>[] = [];
  const shapes: Record<string, unknown>[] = [];
  const data: Record<string, unknown>[] = [];
  nodes.forEach((node, i) => {
    const axis = i === 0 ? '' : String(i + 1);
    const bottomRow = i >= nodes.length - columns;
    const firstColumn = i % columns === 0;
    // ticks and titles on the outer edge only: the panels share their scales
    layout[`xaxis${axis}`] = { showticklabels: bottomRow, ...(bottomRow ? { title: { text: 'elapsed (s)' } } : {}), ...(i === 0 ? {} : { matches: 'x' }) };
    layout[`yaxis${axis}`] = { range: [0, 105], showticklabels: firstColumn, ...(firstColumn ? { title: { text: 'util %' } } : {}), ...(i === 0 ? {} : { matches: 'y' }) };
    annotations.push({ text: node, xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0, y: 1, xanchor: 'left', yanchor: 'bottom', showarrow: false, font: { size: 10 } });
    for (const s of series) {
      if (s.node !== node) continue;
      const { x, y } = minMaxBuckets(
        s.tMs.map((t) => (t - t0) / 1000),
        s.values.util,
        Math.max(1, Math.floor((maxPoints - 2) / 2)),
      );
      data.push({ type: 'scattergl', mode: 'lines', name: s.key, x, y, xaxis: `x${axis}`, yaxis: `y${axis}`, line: { width: 1 }, hovertemplate: `${s.key} %{y:.0f} %<extra></extra>` });
    }
  });
  if (o.phases && o.phases.length > 0) {
    // phase bands on the first panel only: enough to place the steps, no clutter
    const bands = phaseBands(o.phases, t0, range?.endMs);
    shapes.push(...bands.shapes);
  }
  layout.annotations = annotations;
  if (shapes.length > 0) layout.shapes = shapes;
  return { type: 'plot', id, title: 'GPU utilization per node (%)', data, layout, heightPx: Math.min(1000, 150 * rows + 60) };
}

/** Above this many points in one chart WebGL pays off; below it SVG is as fast and needs no WebGL context. */
export const WEBGL_MIN_POINTS = 60_000;

/**
 * `scattergl` -> `scatter` for charts whose downsampled series are small. Measured with
 * scripts/bench-renderer.ts (headless Chromium, software GL): 96 × 600 points update in ~135 ms
 * as SVG vs ~2.7 s to the next frame as scattergl; and every scattergl chart holds a WebGL
 * context, of which Chromium keeps 16 per page: one notebook is one webview, so a notebook
 * with many WebGL charts blanks its oldest ones.
 */
export function svgWhenSmall(block: PlotBlock): PlotBlock {
  if (!block.data.some((t) => t.type === 'scattergl')) return block;
  let points = 0;
  for (const t of block.data) if (Array.isArray(t.x)) points += t.x.length;
  if (points > WEBGL_MIN_POINTS) return block;
  return { ...block, data: block.data.map((t) => (t.type === 'scattergl' ? { ...t, type: 'scatter' } : t)) };
}

/** Round the numbers of a plot's traces (x to 0.1 s, values to 3 significant digits): a third of the JSON. */
export function compactPlot(block: PlotBlock): PlotBlock {
  const data = block.data.map((trace) => {
    const t: Record<string, unknown> = { ...trace };
    if (Array.isArray(t.x) && t.type !== 'heatmap') t.x = roundAll(t.x, (v) => Math.round(v * 10) / 10);
    if (Array.isArray(t.x) && t.type === 'heatmap') t.x = roundAll(t.x, (v) => Math.round(v));
    if (Array.isArray(t.y) && t.type !== 'heatmap') t.y = roundAll(t.y, sig3);
    if (Array.isArray(t.z)) t.z = t.z.map((row: unknown) => (Array.isArray(row) ? roundAll(row, sig3) : row));
    return t;
  });
  return { ...block, data };
}

function roundAll(values: unknown[], f: (v: number) => number): unknown[] {
  return values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? f(v) : v));
}

function sig3(v: number): number {
  if (v === 0) return 0;
  const mag = Math.floor(Math.log10(Math.abs(v)));
  const scale = Math.pow(10, 2 - mag);
  return Math.round(v * scale) / scale;
}

/** The newest reading of every node: what a person glances at while a run goes. */
export function gpuNowTable(state: TelemetryState): TableBlock | undefined {
  const nodes = [...state.latestGpu.keys()].sort(NODE_ORDER.compare);
  if (nodes.length === 0) return undefined;
  const rows = nodes.map((node) => {
    const gpus = state.latestGpu.get(node)?.gpus ?? [];
    const util = mean(gpus.map((g) => g.utilGpuPct));
    const used = sum(gpus.map((g) => g.memUsedMiB));
    const total = sum(gpus.map((g) => g.memTotalMiB));
    const power = sum(gpus.map((g) => g.powerW));
    const temps = gpus.map((g) => g.tempC).filter((v): v is number => v !== undefined);
    return [node, gpus.length, round1(util), used === null ? null : round1(used / 1024), total === null ? null : round1(total / 1024), power === null ? null : Math.round(power), temps.length ? Math.max(...temps) : null];
  });
  return { type: 'table', title: 'GPUs now', columns: ['node', 'GPUs', 'util', 'mem used', 'mem total', 'power', 'max temp'], units: [null, null, '%', 'GiB', 'GiB', 'W', '°C'], rows };
}

/** Newest server gauges per endpoint. */
export function serverNowTable(state: TelemetryState): TableBlock | undefined {
  const eps = [...state.latestServer.keys()].sort(NODE_ORDER.compare);
  if (eps.length === 0) return undefined;
  const rows = eps.map((ep) => {
    const s = state.latestServer.get(ep);
    return [ep, s?.runningReqs ?? null, s?.queuedReqs ?? null, s?.tokenUsage === undefined ? null : round1(s.tokenUsage * 100), s?.genTokensPerSec === undefined ? null : Math.round(s.genTokensPerSec)];
  });
  return { type: 'table', title: 'Servers now', columns: ['endpoint', 'running', 'queued', 'KV usage', 'output'], units: [null, null, null, '%', 'tok/s'], rows };
}

/** Whole-window figures: mean/peak utilization, peak memory, samples. */
export function telemetrySummaryKv(state: TelemetryState, extra: [string, string | number | null][] = []): KeyValueBlock {
  let utilSum = 0;
  let utilN = 0;
  let peakMemMiB = 0;
  for (const s of state.gpus.series()) {
    for (const v of s.values.util) {
      if (Number.isFinite(v)) {
        utilSum += v;
        utilN++;
      }
    }
    for (const v of s.values.memGiB) if (Number.isFinite(v)) peakMemMiB = Math.max(peakMemMiB, v * 1024);
  }
  const range = state.gpus.timeRange();
  const items: [string, string | number | null][] = [];
  if (state.gpus.size > 0) {
    items.push(['GPUs', state.gpus.size]);
    items.push(['mean GPU utilization (%)', utilN > 0 ? round1(utilSum / utilN) : null]);
    items.push(['peak GPU memory (GiB)', round1(peakMemMiB / 1024)]);
    if (range) items.push(['GPU samples span (s)', round1((range.endMs - range.startMs) / 1000)]);
  }
  if (state.serverSamples > 0) items.push(['server scrapes', state.serverSamples]);
  items.push(...extra);
  return { type: 'kv', title: 'Telemetry', items };
}

function sum(vs: (number | undefined)[]): number | null {
  const xs = vs.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return xs.length ? xs.reduce((a, b) => a + b, 0) : null;
}
function mean(vs: (number | undefined)[]): number | null {
  const xs = vs.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}
function round1(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}
